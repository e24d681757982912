"""The 六安市 demo catalogue: real divisions (shipped CSVs) with synthetic needs and specialists."""

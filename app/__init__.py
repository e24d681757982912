"""Jiedui (结对): pairs science-and-technology specialists with administrative villages."""

"""Industries endpoints (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["industries"])

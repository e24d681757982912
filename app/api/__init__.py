"""Versioned API: every router mounted under /api/v1."""

from fastapi import APIRouter

from app.api import industries, regions, specialists, villages

api_router = APIRouter()
for module in (regions, industries, villages, specialists):
    api_router.include_router(module.router)

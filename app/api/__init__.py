"""Versioned API: every router mounted under /api/v1."""

from fastapi import APIRouter

from app.api import industries, records, regions, runs, seasons, specialists, villages

api_router = APIRouter()
for module in (regions, industries, villages, specialists, records, runs, seasons):
    api_router.include_router(module.router)

"""ORM tables. Alembic migrations own the schema; these classes mirror it."""

from models.base import Base
from models.industry import Industry
from models.region import County, Township
from models.run import Run, RunAssignment, RunSnapshot, RunUncovered
from models.season import SeasonAdoption
from models.service import ServiceRecord
from models.specialist import Specialist, SpecialistExpertise, TeamMember
from models.village import Village, VillageNeed

__all__ = [
    "Base", "County", "Industry", "Run", "RunAssignment", "RunSnapshot", "RunUncovered", "SeasonAdoption", "ServiceRecord",
    "Specialist",
    "SpecialistExpertise", "TeamMember", "Township", "Village", "VillageNeed",
]

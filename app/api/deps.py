"""Request dependencies as Annotated aliases; the session is committed at the end of the request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from app.db import get_sessionmaker
from app.settings import Settings, get_settings


def _session() -> Iterator[Session]:
    """One session per request; committed when the handler returns, rolled back on any error."""
    session = get_sessionmaker()()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()  # if this fails, close() below discards the transaction
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]

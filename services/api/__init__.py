"""The LineWatch API service: ``create_app(settings)`` builds the FastAPI app."""

from services.api.app import create_app
from services.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]

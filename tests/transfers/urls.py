"""URLs for the intake tests: the project's, plus the transfers pages and API router mounted
as the lead will mount them (/transfers/ and /api/v1/). Until habeas/api.py mounts the router,
a test API with the project's authentication and error handlers serves it."""

from django.urls import include, path
from ninja import NinjaAPI

from habeas import urls as project_urls
from habeas.accounts.auth import API_AUTH
from habeas.api import api as project_api
from habeas.transfers.api import router

if any(r is router for _, r in project_api._routers):
    api = project_api
else:
    api = NinjaAPI(urls_namespace="intake_test", auth=API_AUTH)
    api._exception_handlers.update(project_api._exception_handlers)
    for _prefix, other in project_api._routers[1:]:
        api.add_router("", other)
    api.add_router("", router)

urlpatterns = [
    path("transfers/", include("habeas.transfers.urls")),
    path("api/v1/", api.urls),
    *[p for p in project_urls.urlpatterns if str(p.pattern) != "api/v1/"],
]

"""The site's URLs plus the oversight app, for tests run before the lead mounts it.

If ``habeas.urls`` / ``habeas.api`` already include the oversight URLs and router, nothing is
added twice."""

from django.urls import include, path
from ninja import NinjaAPI

from habeas import urls as site_urls
from habeas.accounts.auth import API_AUTH
from habeas.api import api as site_api
from habeas.oversight.api import router

urlpatterns = list(site_urls.urlpatterns)

_mounted = any(r is router for _prefix, r, *_rest in site_api._router_registrations)
if not _mounted:
    test_api = NinjaAPI(urls_namespace="api_oversight_test", auth=API_AUTH)
    test_api._exception_handlers = dict(site_api._exception_handlers)
    test_api.add_router("", router)
    urlpatterns.insert(0, path("api/v1/", test_api.urls))

_included = any(getattr(p, "namespace", None) == "oversight" for p in site_urls.urlpatterns)
if not _included:
    urlpatterns.insert(0, path("", include("habeas.oversight.urls")))

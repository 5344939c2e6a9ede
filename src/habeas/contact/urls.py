"""URLs of the contact pages (namespace ``contact``): staff pages under /contact/, the public
visiting rules and visit request under /visiting/."""

from django.urls import path

from habeas.contact import views

app_name = "contact"
urlpatterns = [
    path("contact/", views.contact_home, name="home"),
    path("contact/visits/<int:visit_id>/", views.visit_action, name="visit_action"),
    path("contact/people/<int:person_id>/", views.person_contacts, name="person"),
    path("contact/<str:code>/", views.day_list, name="day"),
    path("visiting/", views.visiting, name="visiting"),
    path("visiting/request/", views.visit_request, name="request"),
]

"""URLs of the housing pages (namespace ``housing``, mounted at /housing/)."""

from django.urls import path

from habeas.housing import departures, views

app_name = "housing"
urlpatterns = [
    path("", views.index, name="index"),
    path("keep-apart/", views.keep_aparts, name="keep_aparts"),
    path("keep-apart/<int:ka_id>/close/", views.keep_apart_close_view, name="keep_apart_close"),
    path("people/<int:person_id>/move/", views.move, name="move"),
    path("people/<int:person_id>/release/", departures.release, name="release"),
    path("people/<int:person_id>/transfer/", departures.transfer, name="transfer"),
    path("<str:facility_code>/", views.board, name="board"),
    path("<str:facility_code>/roll/", views.roll, name="roll"),
    path("<str:facility_code>/occupancy/", views.occupancy, name="occupancy"),
    path("<str:facility_code>/cells/<str:cell_code>/", views.cell, name="cell"),
]

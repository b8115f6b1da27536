from django.urls import path

from todo import views

app_name = "todo"

urlpatterns = [
    path("", views.TodoListView.as_view(), name="list"),
    path("todos/new/", views.TodoCreateView.as_view(), name="create"),
    path("todos/<int:pk>/edit/", views.TodoUpdateView.as_view(), name="edit"),
    path("todos/<int:pk>/toggle/", views.TodoToggleView.as_view(), name="toggle"),
    path("todos/<int:pk>/delete/", views.TodoDeleteView.as_view(), name="delete"),
]

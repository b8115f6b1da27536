from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from todo.forms import TodoForm
from todo.models import Todo

STATUS_FILTERS = {"all": None, "open": False, "done": True}


class OwnedTodoMixin(LoginRequiredMixin):
    """Limits every lookup to the user's own TODOs: another user's id is simply not found
    (404), which also hides whether it exists."""

    model = Todo

    def get_queryset(self) -> QuerySet[Todo]:
        return Todo.objects.filter(owner=self.request.user)


class TodoListView(OwnedTodoMixin, ListView):
    paginate_by = 20
    context_object_name = "todos"

    def get_status(self) -> str:
        status = self.request.GET.get("status", "all")
        return status if status in STATUS_FILTERS else "all"

    def get_queryset(self) -> QuerySet[Todo]:
        queryset = super().get_queryset()
        done = STATUS_FILTERS[self.get_status()]
        return queryset if done is None else queryset.filter(done=done)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status"] = self.get_status()
        context["status_choices"] = [("all", "すべて"), ("open", "未完了"), ("done", "完了")]
        return context


class TodoCreateView(OwnedTodoMixin, CreateView):
    form_class = TodoForm
    success_url = reverse_lazy("todo:list")

    def form_valid(self, form):
        form.instance.owner = self.request.user
        messages.success(self.request, "TODO を追加しました。")
        return super().form_valid(form)


class TodoUpdateView(OwnedTodoMixin, UpdateView):
    form_class = TodoForm
    success_url = reverse_lazy("todo:list")

    def form_valid(self, form):
        messages.success(self.request, "TODO を更新しました。")
        return super().form_valid(form)


class TodoDeleteView(OwnedTodoMixin, DeleteView):
    success_url = reverse_lazy("todo:list")

    def form_valid(self, form):
        messages.success(self.request, "TODO を削除しました。")
        return super().form_valid(form)


class TodoToggleView(OwnedTodoMixin, View):
    # A state change: POST only (View answers 405 to anything else), so a link prefetch or
    # a crawler can never flip a TODO.
    http_method_names = ["post"]

    def post(self, request, pk: int):
        todo = get_object_or_404(self.get_queryset(), pk=pk)
        todo.done = not todo.done
        todo.save(update_fields=["done", "updated_at"])
        # Back to the filtered page the user was on; never to an external URL.
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
            next_url = str(reverse_lazy("todo:list"))
        return HttpResponseRedirect(next_url)

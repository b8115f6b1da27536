import sys

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template import loader
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View, defaults
from django.views.generic import CreateView, DeleteView, ListView, UpdateView
from django.views.generic.base import ContextMixin

from todo import fragments, versions
from todo.forms import TodoForm
from todo.models import Todo

STATUS_FILTERS = {"all": None, "open": False, "done": True}
# What each row of the list links to, by the name the template uses.
ROW_LINKS = {"toggle": "todo:toggle", "edit": "todo:edit", "delete": "todo:delete"}
# A primary key no row has, to find where a reversed URL puts the key.
_PK_SENTINEL = "9876543210"


def pk_url_builders(names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """reverse() once per URL name, giving what comes before and after the primary key.

    A page of 20 TODOs links every row three ways; one {% url %} per link was a quarter of the
    page's CPU time. Each URL is still the router's own, only the key is filled in per row.
    """
    builders = {}
    for label, name in names.items():
        head, found, tail = reverse(name, args=[_PK_SENTINEL]).partition(_PK_SENTINEL)
        if not found:
            raise ValueError(f"{name}: the primary key does not appear in its URL")
        builders[label] = (head, tail)
    return builders


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

    def get(self, request, *args, **kwargs):
        self.object_list = self.get_queryset()
        owner, owned = request.user.pk, super().get_queryset()
        # The counts pagination needs, counted again only after a write (todo/versions.py).
        self.todo_stats, token = versions.cached(
            fragments.stats_key(owner), owner, lambda: fragments.count(owned)
        )
        status = self.get_status()
        # The page asked for, as one that exists; ListView reads it from self.kwargs first.
        self.kwargs[self.page_kwarg] = page = fragments.page_number(
            request.GET.get(self.page_kwarg),
            self.todo_stats.count(STATUS_FILTERS[status]),
            self.paginate_by,
        )
        # Flash messages show once: a page that carries them is rendered and not kept.
        if messages.get_messages(request):
            return self.render_page(status)
        page_key = fragments.key(owner, status, page)
        validator = fragments.validator(request, token)
        cached = cache.get(page_key) if validator else None
        if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == validator:
            return HttpResponse(cached[1])
        response = self.render_page(status)
        if validator:
            response.add_post_render_callback(
                lambda rendered: cache.set(
                    page_key, (validator, rendered.content), fragments.TTL_SECONDS
                )
            )
        return response

    def render_page(self, status: str):
        context = ContextMixin.get_context_data(self)
        context["rows_html"] = render_to_string(
            "todo/_rows.html", self.get_rows_context(), self.request
        )
        context["status"] = status
        context["status_choices"] = [("all", "すべて"), ("open", "未完了"), ("done", "完了")]
        return self.render_to_response(context)

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        count = self.todo_stats.count(STATUS_FILTERS[self.get_status()])
        return fragments.KnownCountPaginator(
            queryset, per_page, orphans, allow_empty_first_page, count=count, **kwargs
        )

    def get_rows_context(self):
        """The rows of the page get() settled on; the forms come back to that page."""
        context = super().get_context_data()
        builders = pk_url_builders(ROW_LINKS)
        context["rows"] = [
            (todo, {label: f"{head}{todo.pk}{tail}" for label, (head, tail) in builders.items()})
            for todo in context["todos"]
        ]
        status, page = self.get_status(), context["page_obj"].number
        # Built from the filter and page alone: the fragment is shared by every URL naming them.
        query = urlencode({"status": status, **({"page": page} if page > 1 else {})})
        context["next_url"] = f"{reverse('todo:list')}?{query}"
        context["status"] = status
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


def server_error(request):
    """handler500: a lost database is a 503 a client may retry, anything else a plain 500.

    Django calls this inside the handler of the exception (sys.exc_info() is that exception).
    Neither page needs the database or a request context, and neither shows a traceback.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "5"
        return response
    return defaults.server_error(request)

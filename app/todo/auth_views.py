import logging

from django.contrib.auth import views as auth_views

from todo import ratelimit

logger = logging.getLogger(__name__)


class RateLimitedLoginView(auth_views.LoginView):
    """Django's LoginView that stops answering password guesses once the budget is spent.

    While locked out the password is not even checked, so a correct guess reveals nothing;
    the answer is 429 with the login page and a message.
    """

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if ratelimit.is_locked_out(request, username):
            logger.warning("login locked out", extra={"event": "login_locked_out"})
            # Unbound: binding would validate, i.e. check the password.
            form = self.get_form_class()(request=request, initial={"username": username})
            response = self.render_to_response(self.get_context_data(form=form, locked_out=True))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        ratelimit.record_failure(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        ratelimit.reset_failures(self.request, form.get_user().get_username())
        return super().form_valid(form)

from django.db import connection
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from polls.models import Choice


def index(request):
    return render(request, "polls/index.html", {"choices": Choice.objects.order_by("text")})


@require_POST
def vote(request, choice_id: int):
    get_object_or_404(Choice, pk=choice_id)
    Choice.objects.filter(pk=choice_id).update(votes=F("votes") + 1)
    return redirect("index")


def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not healthy"
        return HttpResponse("database unavailable", status=503)
    return JsonResponse({"status": "ok"})

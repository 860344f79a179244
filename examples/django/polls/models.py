from django.db import models


class Choice(models.Model):
    text = models.CharField(max_length=200, unique=True)
    votes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.text

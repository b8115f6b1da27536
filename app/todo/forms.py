from django import forms

from todo.models import Todo


class TodoForm(forms.ModelForm):
    class Meta:
        model = Todo
        fields = ["title", "notes", "done"]
        widgets = {
            "title": forms.TextInput(attrs={"autofocus": True, "placeholder": "やること"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

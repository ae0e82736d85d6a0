"""factory-boy factories for every model, in one place (STYLE §9)."""

import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"dev{n}@example.com")
    name = factory.Sequence(lambda n: f"Developer {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


# --- apps -------------------------------------------------------------------------------------------
from apps.models import App, Category  # noqa: E402


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    position = factory.Sequence(lambda n: n)


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    owner = factory.SubFactory(UserFactory)
    package_id = factory.Sequence(lambda n: f"com.example.app{n}")
    name = factory.Sequence(lambda n: f"App {n}")
    description = "A useful app."
    category = factory.SubFactory(CategoryFactory)
    tags = factory.LazyFunction(lambda: ["tools"])

import factory
from django.contrib.auth import get_user_model

from policies.models import Role
from staff.models import StaffMember, Team
from tests.policies.factories import LocalAuthorityFactory

PASSWORD = "a-long-test-password-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    authority = factory.SubFactory(LocalAuthorityFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class StaffMemberFactory(factory.django.DjangoModelFactory):
    """Pass `role="team-manager"` (a slug) or a Role; slugs are created if missing."""

    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    authority = factory.SubFactory(LocalAuthorityFactory)
    role = "social-worker"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        role = kwargs["role"]
        if isinstance(role, str):
            kwargs["role"] = Role.objects.get_or_create(
                slug=role,
                defaults={
                    "name": role.replace("-", " ").title(),
                    "is_chair": role == "cp-chair",
                    "is_quality_assurance": role == "qa-manager",
                },
            )[0]
        return super()._create(model_class, *args, **kwargs)

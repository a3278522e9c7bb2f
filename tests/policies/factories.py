import factory

from policies.models import LocalAuthority, Policy, Role, Stage


class LocalAuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalAuthority
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"authority-{n}")
    name = factory.Sequence(lambda n: f"Authority {n}")
    nation = "ENG"


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"Role {n}")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    authority = factory.SubFactory(LocalAuthorityFactory)
    slug = factory.Sequence(lambda n: f"policy-{n}")
    name = factory.Sequence(lambda n: f"Policy {n}")
    source = "test"


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    policy = factory.SubFactory(PolicyFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Stage {n}")
    role = factory.SubFactory(RoleFactory)
    response_days = 5

import datetime

import factory

from children.models import Child, ChildProtectionPlan, Conference
from tests.policies.factories import LocalAuthorityFactory


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    authority = factory.SubFactory(LocalAuthorityFactory)
    reference = factory.Sequence(lambda n: f"C{n:05d}")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Child{n}")
    date_of_birth = datetime.date(2018, 5, 1)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChildProtectionPlan

    child = factory.SubFactory(ChildFactory)
    category = "neglect"
    start_date = datetime.date(2026, 6, 1)


class ConferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conference

    child = factory.SubFactory(ChildFactory)
    kind = "icpc"
    date = datetime.date(2026, 6, 1)

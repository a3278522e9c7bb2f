from django.urls import path

from escalations import partner_views, views

app_name = "escalations"
urlpatterns = [
    path("", views.my_escalations, name="mine"),
    path("todo/", views.todo, name="todo"),
    path("awaiting/", views.awaiting_my_response, name="awaiting"),
    path("raise/<int:child_pk>/", views.escalation_raise, name="raise"),
    path("<int:pk>/", views.escalation_detail, name="detail"),
    path("<int:pk>/record/", views.escalation_record, name="record"),
    path("<int:pk>/escalate/", views.escalation_escalate, name="escalate"),
    path("<int:pk>/resolve/", views.escalation_resolve, name="resolve"),
    path("<int:pk>/final-decision/", views.escalation_final_decision, name="final_decision"),
    path("<int:pk>/withdraw/", views.escalation_withdraw, name="withdraw"),
    path("<int:pk>/chase/", views.escalation_chase, name="chase"),
    path("<int:pk>/extend/", views.step_extend, name="extend"),
    path("<int:pk>/readdress/", views.step_readdress, name="readdress"),
    path("<int:pk>/discussion/", views.escalation_discussion, name="discussion"),
    path("steps/<int:pk>/", views.step_respond, name="respond"),
    path("link/<str:token>/", views.step_link, name="step_link"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    # Partner agencies: no council account, a link and a one-time code (partner_access.py).
    # The cookie of a partner's session is sent to these paths only.
    path("partner/reply/", partner_views.partner_reply, name="partner_reply"),
    path("partner/sign-out/", partner_views.partner_sign_out, name="partner_sign_out"),
    path("partner/<str:token>/", partner_views.partner_link, name="partner_link"),
    path("partner/<str:token>/code/", partner_views.partner_code, name="partner_code"),
]

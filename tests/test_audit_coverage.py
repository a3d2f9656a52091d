"""Every service that changes state writes the audit trail.

Each public function of the modules that change state is here: either audited, named with the test
that proves its one entry and its actor, or quiet, with the reason nothing an operator would ask
"who did that?" about changes. A new service function fails this test until someone decides which.
"""
import importlib
import inspect
from pathlib import Path

import pytest

MODULES = ["hotspot.services", "hotspot.subscriptions", "hotspot.vouchers", "billing.payments", "billing.invoices",
           "billing.purchase", "routers.services", "routers.actions", "routers.wireguard", "routers.provisioning",
           "routers.nightly_backups",
           "accounts.services", "accounts.two_factor", "radius.coa", "billing.customer_desk",
           "monitoring.alerts.incidents", "monitoring.alerts.outbox", "monitoring.alerts.preferences",
           "billing.notifications", "siteconfig.mail", "siteconfig.logo", "monitoring.backup_paths",
           *(f"monitoring.backups.{part}" for part in ("tools", "dump", "archive", "job", "retention", "restore")),
           "monitoring.tickets.services", "billing.wallets", "billing.expenses", "monitoring.business_summary",
           "routers.traffic_history", "monitoring.exports"]

DESK = "test_support_desk.py"
HOTSPOT, BILLING, ROUTERS = "test_audit_hotspot.py", "test_audit_billing.py", "test_audit_routers_accounts.py"
TWO_FACTOR_PAGES = ("test_two_factor.py", "test_a_staff_member_enrols_makes_new_codes_and_turns_it_off_on_the_page")
NIGHTLY_KEEPS_N = "test_the_nightly_job_keeps_exactly_the_newest_n_per_router_and_skips_offline_ones"
ROUTER_PAGES = (ROUTERS, "test_a_technician_adds_changes_and_removes_a_router_through_the_pages")
AUDITED = {
    "monitoring.exports.start": ("test_exports.py",
                                 "test_a_big_export_becomes_a_job_whose_file_is_the_synchronous_export"),
    "hotspot.services.create_customer": (HOTSPOT, "test_staff_add_edit_and_deactivate_a_customer_on_the_pages"),
    "hotspot.services.update_customer": (HOTSPOT, "test_staff_add_edit_and_deactivate_a_customer_on_the_pages"),
    "hotspot.services.set_customer_active": (HOTSPOT, "test_staff_add_edit_and_deactivate_a_customer_on_the_pages"),
    "hotspot.services.delete_customer": (HOTSPOT, "test_staff_manage_customers_through_the_api"),
    "hotspot.services.save_package": (HOTSPOT, "test_staff_add_reprice_withdraw_and_delete_a_package_on_the_pages"),
    "hotspot.services.set_package_active": (HOTSPOT,
                                            "test_staff_add_reprice_withdraw_and_delete_a_package_on_the_pages"),
    "hotspot.services.delete_package": (HOTSPOT, "test_staff_add_reprice_withdraw_and_delete_a_package_on_the_pages"),
    "hotspot.services.save_group": (HOTSPOT, "test_staff_add_a_group_on_the_page"),
    "hotspot.subscriptions.activate": (HOTSPOT, "test_activation_new_extended_and_queued_each_say_which"),
    "hotspot.subscriptions.expire_due": (HOTSPOT, "test_the_expiry_job_is_the_actor_of_what_it_expires"),
    "hotspot.subscriptions.process_grace": (HOTSPOT, "test_the_jobs_start_grace_end_it_and_start_what_is_queued"),
    "hotspot.subscriptions.suspend": (HOTSPOT, "test_suspend_resume_and_cancel_each_leave_one_entry"),
    "hotspot.subscriptions.resume": (HOTSPOT, "test_suspend_resume_and_cancel_each_leave_one_entry"),
    "hotspot.subscriptions.cancel": (HOTSPOT, "test_suspend_resume_and_cancel_each_leave_one_entry"),
    "hotspot.subscriptions.extend": (DESK, "test_extend_asks_for_a_reason_moves_radius_expiry_and_what_is_queued"),
    "hotspot.subscriptions.give_free_time": (DESK, "test_free_time_gives_a_package_without_a_payment_and_says_why"),
    "hotspot.services.reset_password": (DESK, "test_the_api_does_what_the_page_does"),
    "hotspot.services.change_password": ("test_portal_account_sign_in.py",
                                         "test_changing_the_password_writes_radius_audits_and_signs_out_the_other_browsers"),
    "billing.customer_desk.prompt": (DESK, "test_recharge_prompts_the_customers_phone_and_the_payment_credits"),
    "billing.customer_desk.send_credentials": (DESK, "test_send_credentials_texts_the_username_and_password"),
    "hotspot.vouchers.generate_batch": (HOTSPOT, "test_staff_generate_and_revoke_vouchers_on_the_pages"),
    "hotspot.vouchers.redeem": (HOTSPOT, "test_the_customer_redeeming_in_the_portal_is_the_actor"),
    "hotspot.vouchers.revoke": (HOTSPOT, "test_staff_generate_and_revoke_vouchers_on_the_pages"),
    "billing.payments.start_stk": (BILLING, "test_a_known_customer_starting_a_purchase_in_the_portal_is_its_actor"),
    "billing.payments.complete": (BILLING, "test_an_stk_callback_credits_once_as_mpesa_from_its_address"),
    "billing.payments.fail": (BILLING, "test_a_cancelled_prompt_leaves_one_entry_however_often_it_is_told"),
    "billing.payments.post_to_wallet": (BILLING, "test_paybill_to_a_phone_number_credits_the_wallet_as_mpesa"),
    "billing.payments.record_cash": (BILLING, "test_cash_through_the_page_is_credited_by_the_staff_member"),
    "billing.payments.buy_from_wallet": (BILLING, "test_a_wallet_purchase_by_staff_is_credited_and_debits_the_wallet"),
    "billing.payments.reverse": (BILLING, "test_a_reversal_by_staff_keeps_the_reason_as_its_note"),
    "billing.invoices.issue": (BILLING, "test_invoices_issued_from_the_page_name_the_staff_member"),
    "billing.invoices.issue_due": (BILLING, "test_the_invoice_job_issues_as_the_job_and_staff_cancel_as_themselves"),
    "billing.wallets.fix": ("test_wallet_balances.py",
                            "test_check_wallets_lists_every_drifted_figure_and_fix_sets_it_from_the_ledger_audited"),
    "billing.invoices.cancel": (BILLING, "test_the_invoice_job_issues_as_the_job_and_staff_cancel_as_themselves"),
    "billing.purchase.initiate": (BILLING, "test_a_known_customer_starting_a_purchase_in_the_portal_is_its_actor"),
    "billing.purchase.renew": (BILLING, "test_a_known_customer_starting_a_purchase_in_the_portal_is_its_actor"),
    "billing.purchase.from_wallet": (BILLING, "test_a_customer_spending_their_wallet_through_the_api_is_its_actor"),
    # The customer's account page (tests/test_portal_account.py): the customer is the actor.
    **{f"billing.purchase.{name}": ("test_portal_account.py", "test_the_customer_is_the_actor_of_what_they_start_here")
       for name in ("top_up", "buy_again", "pay_invoice")},
    "billing.purchase.buy_boost": ("test_fair_use_standing.py",
                                   "test_a_throttled_customer_sees_the_figures_the_speed_and_boosts_and_buys_one_from_the_wallet"),
    "routers.services.create_router": ROUTER_PAGES,
    "routers.services.update_router": ROUTER_PAGES,
    "routers.services.delete_router": ROUTER_PAGES,
    "routers.services.save_access_point": (ROUTERS, "test_access_points_added_changed_and_removed"),
    "routers.services.delete_access_point": (ROUTERS, "test_access_points_added_changed_and_removed"),
    "routers.services.log_action": (ROUTERS, "test_backup_kick_and_reboot_each_leave_one_entry_beside_their_log_row"),
    "routers.actions.backup": (ROUTERS, "test_backup_kick_and_reboot_each_leave_one_entry_beside_their_log_row"),
    "routers.actions.restore": (ROUTERS, "test_a_restore_leaves_one_entry_and_a_failed_action_none"),
    "routers.actions.reboot": (ROUTERS, "test_backup_kick_and_reboot_each_leave_one_entry_beside_their_log_row"),
    "routers.actions.kick": (ROUTERS, "test_backup_kick_and_reboot_each_leave_one_entry_beside_their_log_row"),
    # The nightly router backup: a "backed_up" entry per router (routers.actions.backup) and one
    # "deleted_backups" for the old ones, each by the job.
    "routers.nightly_backups.backup_all": ("test_backup_pages.py", NIGHTLY_KEEPS_N),
    "routers.nightly_backups.delete_old": ("test_backup_pages.py", NIGHTLY_KEEPS_N),
    "routers.wireguard.enrol": (ROUTERS, "test_wireguard_enrolment_and_activation_keep_their_keys_out"),
    "routers.wireguard.activate": (ROUTERS, "test_wireguard_enrolment_and_activation_keep_their_keys_out"),
    "routers.provisioning.enqueue": (ROUTERS, "test_provisioning_leaves_started_and_finished_with_the_job_as_actor"),
    "routers.provisioning.start_job": (ROUTERS, "test_provisioning_leaves_started_and_finished_with_the_job_as_actor"),
    "routers.provisioning.run_job": (ROUTERS, "test_provisioning_leaves_started_and_finished_with_the_job_as_actor"),
    "routers.provisioning.provision_router": (ROUTERS,
                                              "test_provisioning_leaves_started_and_finished_with_the_job_as_actor"),
    "accounts.services.sign_in": (ROUTERS, "test_a_failed_sign_in_records_the_username_and_address_never_the_password"),
    "accounts.services.issue_token": (ROUTERS, "test_the_api_sign_in_issues_a_token_and_signing_out_revokes_it"),
    "accounts.services.revoke_token": (ROUTERS, "test_the_api_sign_in_issues_a_token_and_signing_out_revokes_it"),
    "accounts.services.refresh_token": (ROUTERS, "test_the_api_sign_in_issues_a_token_and_signing_out_revokes_it"),
    "accounts.services.create_staff": (ROUTERS, "test_an_admin_adds_changes_and_deactivates_staff"),
    "accounts.services.update_staff": (ROUTERS, "test_an_admin_adds_changes_and_deactivates_staff"),
    "accounts.services.set_staff_active": (ROUTERS, "test_an_admin_adds_changes_and_deactivates_staff"),
    "accounts.services.create_role": ("test_roles.py", "test_the_api_lists_creates_changes_and_deletes_custom_roles"),
    "accounts.services.update_role": ("test_roles.py", "test_the_api_lists_creates_changes_and_deletes_custom_roles"),
    "accounts.services.delete_role": ("test_roles.py", "test_the_api_lists_creates_changes_and_deletes_custom_roles"),
    "accounts.two_factor.confirm_enrolment": TWO_FACTOR_PAGES,
    "accounts.two_factor.regenerate_recovery_codes": TWO_FACTOR_PAGES,
    "accounts.two_factor.disable": TWO_FACTOR_PAGES,
    "accounts.two_factor.reset": ("test_two_factor.py", "test_an_admin_resets_a_staff_members_two_factor"),
    "accounts.two_factor.verify_code": ("test_two_factor.py",
                                        "test_a_wrong_code_is_a_form_error_and_the_right_one_signs_in"),
    "radius.coa.disconnect": (ROUTERS, "test_staff_disconnecting_a_session_leaves_one_entry_with_the_outcome"),
    "radius.coa.disconnect_many": (ROUTERS, "test_the_expiry_job_disconnecting_many_leaves_one_entry_each"),
    # The "Send test SMS" / "Send test e-mail" buttons: who tried the new key or server, and how it went.
    "billing.notifications.send_test": ("test_settings_messages.py", "test_send_test_sms_from_the_page"),
    "siteconfig.mail.send_test": ("test_settings_messages.py",
                                  "test_send_test_email_through_the_saved_server_and_the_password_never_comes_back"),
    # The logo: saved through the settings store, whose entry names the file and its kind and size.
    "siteconfig.logo.save": ("test_settings_general.py",
                             "test_an_admin_uploads_a_png_then_an_svg_and_both_are_shown_and_audited"),
    "siteconfig.logo.remove": ("test_settings_general.py",
                               "test_an_admin_uploads_a_png_then_an_svg_and_both_are_shown_and_audited"),
    # Alerts: who took an incident, who changed their own alerts or tried a channel.
    "monitoring.alerts.incidents.acknowledge": ("test_alerts.py",
                                                "test_reminders_every_r_minutes_until_someone_acknowledges"),
    "monitoring.alerts.preferences.save": ("test_alerts.py",
                                           "test_staff_choose_their_alerts_and_send_themselves_a_test"),
    "monitoring.alerts.preferences.send_test": ("test_alerts.py",
                                                "test_staff_choose_their_alerts_and_send_themselves_a_test"),
    # Tickets: opened, answered, noted, changed, written to by the customer, an image attached.
    **{f"monitoring.tickets.services.{name}": ("test_tickets.py",
                                                "test_every_change_is_in_the_audit_trail_with_its_actor")
       for name in ("open_ticket", "reply", "note", "customer_message", "change", "attach")},
    # A customer opening a ticket from their account: the customer is the actor, from their address.
    "monitoring.tickets.services.customer_open": ("test_portal_tickets.py",
                                                  "test_a_customer_opens_a_ticket_from_the_account_and_reads_the_staff_reply"),
    # Database backups: asked for, made (or failed), pruned by retention, restored.
    "monitoring.backups.job.request_backup": ("test_backups.py",
                                              "test_back_up_now_queues_one_job_however_often_it_is_asked"),
    "monitoring.backups.job.backup_database": ("test_backups.py",
                                               "test_back_up_now_queues_one_job_however_often_it_is_asked"),
    "monitoring.backups.job.run": ("test_backups.py", "test_a_backup_that_cannot_be_written_fails_and_says_why"),
    "monitoring.backups.retention.prune": ("test_backups.py",
                                           "test_retention_keeps_exactly_the_last_n_days_and_the_first_of_m_months"),
    "monitoring.backups.restore.restore": ("test_backups.py",
                                           "test_a_postgresql_backup_restores_into_an_empty_database_where_freeradius_accepts_a_customer"),
    "billing.expenses.create": ("test_expenses.py",
                                "test_finance_adds_an_expense_with_its_receipt_and_the_trail_says_who"),
    "billing.expenses.update": ("test_expenses.py",
                                "test_editing_is_audited_field_by_field_and_a_new_receipt_replaces_the_old"),
    "billing.expenses.delete": ("test_expenses.py",
                                "test_delete_asks_first_then_deletes_and_the_trail_keeps_what_it_was"),
    "monitoring.business_summary.send_summary": ("test_nightly_summary.py",
                                                 "test_the_summary_tells_yesterdays_figures_to_those_who_chose_it"),
}

READS = "reads or computes; changes nothing"
QUIET = {
    "monitoring.exports.kind_for": READS,
    "monitoring.exports.params_of": READS,
    "monitoring.exports.query_of": READS,
    "monitoring.exports.path_of": READS,
    "monitoring.exports.file_for": READS,
    "monitoring.exports.run": "writes the file someone asked for: their request is the entry (and the download)",
    "monitoring.exports.run_export": "the task of run: their request is the entry",
    "monitoring.exports.remove_old": "removes prepared files past EXPORT_KEEP_HOURS, as the log rotation does",
    "billing.notifications.send_sms": "kept in the notification log; the receipt or reminder sending it is the record",
    "siteconfig.mail.explain": READS,
    "siteconfig.logo.check": READS,
    "siteconfig.logo.too_big": READS,
    "siteconfig.logo.current": READS,
    "siteconfig.logo.url": READS,
    "hotspot.services.radius_settings_saved": "RADIUS policy following a settings save, whose own entry records it",
    "hotspot.services.speaks": "the language of the customer's last purchase: how to word their SMS, not a decision",
    "billing.notifications.send_email": "kept in the notification log; the receipt sending it is the record",
    "hotspot.services.seen": "the last MAC and address a customer came from: telemetry, not a decision",
    "hotspot.services.current_subscription": READS,
    "hotspot.services.left": READS,
    "hotspot.services.disconnect_customer": "asks radius.coa.disconnect, which writes the entry per session",
    "hotspot.services.check_rate_limit": READS,
    "hotspot.subscriptions.lock_customers": "a row lock inside the caller's transaction",
    "hotspot.subscriptions.running": "a read: the subscription a boost would add to",
    "hotspot.subscriptions.restore_access": "RADIUS rows following a subscription whose own change is recorded",
    "hotspot.subscriptions.ensure_grace_policy": "the grace group's RADIUS policy, derived from settings",
    "hotspot.subscriptions.disconnect_unentitled_sessions": "asks radius.coa, which writes the entry per session",
    "hotspot.vouchers.normalise_code": READS,
    "hotspot.vouchers.display": READS,
    "hotspot.vouchers.clean_prefix": READS,
    "hotspot.vouchers.batch_csv": READS,
    "billing.payments.callback_url": READS,
    "billing.payments.balance": READS,
    "billing.wallets.balance": READS,
    "billing.wallets.mismatches": READS,
    "billing.wallets.check": "reads every wallet and its ledger; stores the result in the cache for a page",
    "billing.wallets.last_check": READS,
    "billing.payments.customer_for_phone": READS,
    "billing.payments.label": READS,
    "billing.purchase.throttles": READS,
    "billing.purchase.lookups": READS,
    "billing.purchase.phone_or_refuse": READS,
    "billing.purchase.token_for": READS,
    "billing.purchase.by_token": READS,
    "billing.purchase.by_checkout_id": READS,
    "billing.purchase.recover": "finds and shows a customer's own payment; changes nothing",
    "billing.purchase.started_here": READS,
    "billing.purchase.state": READS,
    "billing.purchase.last_package": READS,
    "routers.services.normalise_host": READS,
    "routers.services.sync_nas_row": "provisioning's NAS step: the run's own entries say what it changed",
    "routers.services.audited": "the helper the router services record through",
    "routers.services.test_connection": "asks the router; changes nothing",
    "routers.services.client_for": READS,
    "routers.services.find_router": READS,
    "routers.actions.logs": READS,
    "routers.actions.stats": READS,
    "routers.actions.kick_failed_disconnects": "the fallback of a Disconnect whose own entry notes it",
    "routers.actions.on_each_router": "the fan-out under the CoA fallbacks; each caller's own entry is the record",
    "routers.wireguard.generate_keypair": READS,
    "routers.wireguard.public_key": READS,
    "routers.wireguard.server": "our server's keys, made once on first use; no operator decision",
    "routers.wireguard.server_address": READS,
    "routers.wireguard.prefix_length": READS,
    "routers.wireguard.server_config": READS,
    "routers.wireguard.server_private_key": READS,
    "routers.wireguard.strip_config": READS,
    "routers.wireguard.require_readable": READS,
    "routers.wireguard.config_for": READS,
    "routers.wireguard.record_handshakes": "the tunnels' last handshakes: telemetry",
    "routers.provisioning.portal_url": READS,
    "routers.provisioning.portal_host": READS,
    "routers.provisioning.daraja_host": READS,
    "routers.provisioning.login_html": READS,
    "routers.provisioning.radius_address": READS,
    "routers.provisioning.progress": READS,
    **{f"routers.provisioning.{step}": "a provisioning step: the job's started/provisioned entries say what it changed"
       for step in ("radius_client", "radius_incoming", "hotspot_profile", "walled_garden", "grace_firewall",
                    "login_page", "nas_row")},
    "accounts.services.find_token": READS,
    "accounts.services.user_for_token": READS,
    "accounts.services.purge_expired_credentials": "retention of tokens already expired",
    "accounts.services.throttles": READS,
    "accounts.services.lockout_message": READS,
    "accounts.two_factor.is_enrolled": READS,
    "accounts.two_factor.with_enrolment": READS,
    "accounts.two_factor.required_for": READS,
    "accounts.two_factor.must_enrol": READS,
    "accounts.two_factor.confirmed_device": READS,
    "accounts.two_factor.recovery_codes_left": READS,
    "accounts.two_factor.unconfirmed": READS,
    "accounts.two_factor.secret_text": READS,
    "accounts.two_factor.qr_svg": READS,
    "accounts.two_factor.start_enrolment": "a key not yet in force: confirm_enrolment records the enrolment",
    "accounts.two_factor.confirm_identity": "checks a password or code; a wrong one is counted, not recorded",
    "radius.coa.register_disconnect_fallback": "wiring at start-up",
    "radius.coa.register_customer_lookup": "wiring at start-up",
    "radius.coa.announce_disconnected": "a live event about a disconnect whose entry is written by disconnect",
    "radius.coa.change_authorization": "a CoA-Request following a change recorded where it is made",
    "radius.coa.change_authorization_many": "the fair-use job's CoA-Requests: radius.fair_use writes one entry each",
    "radius.coa.register_rate_fallback": "wiring at start-up",
    "monitoring.alerts.incidents.evaluate": "the incidents and messages it writes are the record, each with its time",
    "monitoring.alerts.outbox.queue": "the message rows are the record of what was sent to whom",
    "monitoring.alerts.outbox.queue_digests": "the digest rows are the record of what was sent to whom",
    "monitoring.alerts.outbox.deliver_due": "each message row keeps its delivery state and error",
    "routers.traffic_history.refresh_hours": "summary rows recomputed from the samples; nobody's act",
    "routers.traffic_history.sum_every_router": "all routers' hourly totals summed from the router hours; nobody's act",
    **{f"billing.expenses.{name}": READS for name in ("receipt_type", "read_receipt", "receipt_of")},
    **{f"monitoring.business_summary.{name}": READS for name in ("figures", "text", "audience")},
    "routers.traffic_history.over": READS,
    **{f"monitoring.alerts.{name}": READS for name in ("outbox.duration", "outbox.text", "outbox.digest_text",
                                                        "preferences.route_choices", "preferences.of",
                                                        "preferences.form")},
    **{f"monitoring.{name}": READS
       for name in ("backup_paths.backup_dir", "backup_paths.path_of", "backup_paths.manifest_path",
                    "backups.tools.pg_tool", "backups.archive.read_manifest", "backups.archive.verify",
                    "backups.job.under_way", "tickets.services.image_type")},
}


def _public_functions(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    return {f"{module_name}.{name}" for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module_name and not name.startswith("_")
            or getattr(value, "__module__", None) == module_name and hasattr(value, "delay")}


def test_every_service_function_is_audited_or_says_why_not():
    found = set().union(*(_public_functions(m) for m in MODULES))
    undecided = found - AUDITED.keys() - QUIET.keys()
    assert not undecided, f"audit these (or list them in QUIET with the reason): {sorted(undecided)}"
    assert not (AUDITED.keys() & QUIET.keys())
    assert not (AUDITED.keys() | QUIET.keys()) - found, "listed but gone: take them out"


@pytest.mark.parametrize("function", sorted(AUDITED))
def test_the_test_named_for_an_audited_service_exists(function):
    file, test = AUDITED[function]
    assert f"def {test}(" in (Path(__file__).parent / file).read_text()

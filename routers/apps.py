from django.apps import AppConfig


class RoutersConfig(AppConfig):
    name = "routers"
    verbose_name = "Routers"

    def ready(self):
        # radius may not import routers (apps depend one way), so routers plugs its API kick into
        # radius's Disconnect as the fallback for a NAS that refuses or does not answer.
        from radius import coa

        from . import actions, queues

        coa.register_disconnect_fallback(actions.kick_failed_disconnects)
        # Fair use: a rate change the NAS did not take is applied to the session's queue.
        coa.register_rate_fallback(queues.slow_failed_coa)

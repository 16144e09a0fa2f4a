"""`python manage.py metrics_reset`: empty the metrics folder before the gateway's processes start.

./run.sh runs it before starting web, worker and beat. Counts of processes that ended stay
in the folder until then (Prometheus sees the reset as a counter restart); run it only while
none of the processes runs, or their counts so far are lost.
"""
from django.core.management.base import BaseCommand

from core.metrics import metrics_dir_prepare


class Command(BaseCommand):
    help = "Empty the Prometheus metrics folder (DATA_DIR/metrics); only while no gateway process runs."

    def handle(self, *args, **options):
        folder = metrics_dir_prepare(fresh=True)
        if options["verbosity"] > 1:
            self.stdout.write(f"emptied {folder}")

"""Every workflow a Saku worker runs, in one list.

Kept out of the package's __init__: the workflow sandbox re-imports a workflow's package for
every workflow it starts, and importing every workflow module each time would be slow.
"""

from workflows.backup import BackupWorkflow
from workflows.biometrics import DistributeTemplateWorkflow, EraseBiometricsWorkflow
from workflows.cases import CaseWorkflow
from workflows.evaluation import EvaluateBatchWorkflow, EvaluateTransactionWorkflow
from workflows.history_archive import HistoryArchiveWorkflow
from workflows.noop import NoOpWorkflow
from workflows.reporting import ReportingWorkflow
from workflows.restore_drill import RestoreDrillWorkflow
from workflows.selfcheck import SelfCheckWorkflow
from workflows.wallet import (
    KioskPaymentWorkflow,
    OfflineSyncWorkflow,
    PayoutWorkflow,
    TopUpWorkflow,
)

ALL_WORKFLOWS: list[type] = [
    SelfCheckWorkflow,
    EvaluateTransactionWorkflow,
    EvaluateBatchWorkflow,
    NoOpWorkflow,
    KioskPaymentWorkflow,
    TopUpWorkflow,
    OfflineSyncWorkflow,
    PayoutWorkflow,
    DistributeTemplateWorkflow,
    EraseBiometricsWorkflow,
    ReportingWorkflow,
    CaseWorkflow,
    BackupWorkflow,
    RestoreDrillWorkflow,
    HistoryArchiveWorkflow,
]

"""010 Increased account activity: volume - debtor.

A sudden burst of outgoing transactions compared with the account's own habit is a sign of
takeover, mule use or a scam in progress. Measured: the standard score (z, in standard
deviations) of the number of successful outgoing transactions of the debtor account in the
current `evaluationIntervalTime` (this transaction included) against the counts of the
earlier complete intervals within `maxQueryRange` (ms) since the account was first seen.
Exits: fewer than `minimumNumberOfIntervals` earlier intervals, or an account never seen,
is insufficient history (.x01); a history with no variance exits .x03 when the current
count is above its average and .x04 otherwise.
"""

from activities.monitoring.rules._volume import volume_rule

RULE = volume_rule("010", "debtor")

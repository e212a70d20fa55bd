"""`saku chaos`: the fault scorecard. Mixed load on a private Saku, one fault at a time,
then a count of what was acknowledged, done exactly once, lost or duplicated."""

"""Not a component: span resolution for TFX's stock ExampleGens (executors that resolve `{SPAN}`
where no driver did, and the KFP task that finds the newest span)."""

"""The pure core: model, directory, desired state, diff into a Plan, safety, capabilities. Standard
library and `errors` only.
"""

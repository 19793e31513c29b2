"""modelreg and git: the registry's trees read from git without a checkout
(:mod:`~modelreg.gitsync.trees`), the three-way merge of whole registry trees by meaning
(:mod:`~modelreg.gitsync.integrate`), the events between two trees
(:mod:`~modelreg.gitsync.changes`), finishing a merge or rebase git stopped
(:mod:`~modelreg.gitsync.aftermerge`), and publishing (:mod:`~modelreg.gitsync.publish`).

Nothing here is imported by the read path: the commands that need git import it.
"""

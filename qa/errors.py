"""The library's errors. Each says what was wrong and how to fix it; the CLI prints it on one
line and the API maps it to a 4xx with the message as ``detail``."""


class QAError(ValueError):
    """Base class; ``hint`` is the fix, printed after the message."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class ManifestError(QAError):
    hint = "fix that line of the manifest"


class CorpusError(QAError):
    hint = "check the corpus directory"


class IndexNotFound(QAError):
    hint = "run `qa index` to build it"


class IndexMismatch(QAError):
    hint = "run `qa index` to rebuild it"


class QueryError(QAError):
    pass


class NotFound(QAError):
    pass


class FileProblem(QAError):
    """A file that cannot be read as it is (not a regular file, a link out of its directory, over
    its size cap, unreadable); the message names it and says how to fix it."""

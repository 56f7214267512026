"""What every layer shares and no domain owns: the vocabulary of training choices, the settings
(where ftadvisor keeps what it makes), user paths and error lines. Pydantic and the standard
library only, so the command line, the pages and the workers all import it at no cost."""

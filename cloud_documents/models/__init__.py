from . import clouds_folder_rule
from . import clouds_folder
from . import ir_attachment
from . import documents_document
from . import ir_binary

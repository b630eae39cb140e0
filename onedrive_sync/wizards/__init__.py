from . import drive_picker

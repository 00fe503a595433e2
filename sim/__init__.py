"""pharmasim: discrete-event simulation of sponsor - CRO - CDMO pharmaceutical supply chains."""
__version__ = "0.1.0"

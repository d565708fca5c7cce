"""PBX adapters: Asterisk AMI and FastAGI, Rostelecom's cloud PBX API, CDR sources."""

"""Software in the loop: the flight software (``bliss.fsw``) flown against the simulator's plant
(``sim``) with kinematic actuators, and coupled with the orbit."""

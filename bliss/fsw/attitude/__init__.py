"""Onboard attitude determination and control: the MEKF (``mekf``), the quaternion-feedback controller
with its torque-to-actuator mapping (``control``) and the actuator port (``actuation``)."""

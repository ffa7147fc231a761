"""The hotline's community services: partners (加盟商) and their service orders,
home visits (入户回访), community visit days (社区月月进) and donations."""

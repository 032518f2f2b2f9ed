"""Doorbell drivers: plain asyncio and aiohttp, no Home Assistant."""

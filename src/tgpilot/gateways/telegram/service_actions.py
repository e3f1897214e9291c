"""The one mapping from Telethon ``MessageAction*`` classes to Telegram Desktop action names.

Service messages are stored with the action name Telegram Desktop writes in its JSON
export (``create_group``, ``invite_members``, ``pin_message``, …), so that a row from a
live sync and the row imported from a Desktop export of the same chat carry the same
``service_action``. Names follow Desktop's ``export_output_json.cpp``; actions Desktop
does not name get a stable snake_case name derived from the class
(``MessageActionGiftTon`` → ``gift_ton``); ``MessageActionCustomAction``, for which
Desktop writes only an ``information_text``, is ``custom_action``.
"""

from __future__ import annotations

import re
from typing import Any

ACTION_PREFIX = "MessageAction"

CUSTOM_ACTION = "custom_action"
"""Our name for ``MessageActionCustomAction`` (Desktop writes no ``action`` for it)."""

DESKTOP_ACTIONS: dict[str, str] = {
    "MessageActionChatCreate": "create_group",
    "MessageActionChatEditTitle": "edit_group_title",
    "MessageActionChatEditPhoto": "edit_group_photo",
    "MessageActionChatDeletePhoto": "delete_group_photo",
    "MessageActionChatAddUser": "invite_members",
    "MessageActionChatDeleteUser": "remove_members",
    "MessageActionChatJoinedByLink": "join_group_by_link",
    "MessageActionChatJoinedByRequest": "join_group_by_request",
    "MessageActionChannelCreate": "create_channel",
    "MessageActionChatMigrateTo": "migrate_to_supergroup",
    "MessageActionChannelMigrateFrom": "migrate_from_group",
    "MessageActionPinMessage": "pin_message",
    "MessageActionHistoryClear": "clear_history",
    "MessageActionGameScore": "score_in_game",
    "MessageActionPaymentSent": "send_payment",
    "MessageActionPaymentSentMe": "send_payment",
    "MessageActionPhoneCall": "phone_call",
    "MessageActionScreenshotTaken": "take_screenshot",
    "MessageActionCustomAction": CUSTOM_ACTION,
    "MessageActionBotAllowed": "allow_sending_messages",
    "MessageActionSecureValuesSent": "send_passport_values",
    "MessageActionSecureValuesSentMe": "send_passport_values",
    "MessageActionContactSignUp": "joined_telegram",
    "MessageActionGeoProximityReached": "proximity_reached",
    "MessageActionGroupCall": "group_call",
    "MessageActionInviteToGroupCall": "invite_to_group_call",
    "MessageActionSetMessagesTTL": "set_messages_ttl",
    "MessageActionGroupCallScheduled": "group_call_scheduled",
    "MessageActionSetChatTheme": "edit_chat_theme",
    "MessageActionWebViewDataSent": "send_webview_data",
    "MessageActionWebViewDataSentMe": "send_webview_data",
    "MessageActionGiftPremium": "send_premium_gift",
    "MessageActionTopicCreate": "topic_created",
    "MessageActionTopicEdit": "topic_edit",
    "MessageActionSuggestProfilePhoto": "suggest_profile_photo",
    "MessageActionRequestedPeer": "requested_peer",
    "MessageActionRequestedPeerSentMe": "requested_peer",
    "MessageActionSetChatWallPaper": "set_chat_wallpaper",
    "MessageActionGiftCode": "gift_code_prize",
    "MessageActionGiveawayLaunch": "giveaway_launch",
    "MessageActionGiveawayResults": "giveaway_results",
    "MessageActionBoostApply": "boost_apply",
    "MessageActionPaymentRefunded": "refunded_payment",
    "MessageActionGiftStars": "send_stars_gift",
    "MessageActionPrizeStars": "stars_prize",
    "MessageActionStarGift": "send_star_gift",
}
"""Telethon action class name → Telegram Desktop ``action`` value."""

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def derived_action_name(class_name: str) -> str:
    """``MessageActionGiftTon`` → ``gift_ton``: the name of an action Desktop does not name."""
    bare = class_name.removeprefix(ACTION_PREFIX) or class_name
    return _CAMEL_BOUNDARY.sub("_", bare).lower()


def desktop_action_name(action: Any) -> str:
    """The Telegram Desktop action name of a Telethon ``MessageAction*`` object.

    A few Desktop names depend on the action's flags (bot allowed from the attach menu
    or a web app; the same wallpaper set again), exactly as Desktop decides them.
    """
    class_name = type(action).__name__
    if class_name == "MessageActionBotAllowed":
        if getattr(action, "attach_menu", None):
            return "attach_menu_bot_allowed"
        if getattr(action, "from_request", None):
            return "web_app_bot_allowed"
    if class_name == "MessageActionSetChatWallPaper" and getattr(action, "same", None):
        return "set_same_chat_wallpaper"
    return DESKTOP_ACTIONS.get(class_name) or derived_action_name(class_name)

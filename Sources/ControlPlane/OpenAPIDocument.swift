import MatchContract

/// The OpenAPI 3.1 description of every HTTP route, served at `GET /openapi.json`.
/// Checked against the implementation by `tools/openapi-check` (schemathesis).
/// The settings schema quotes ``MatchSettings``' ranges and the hosted ``GameCatalog``, so the
/// document says what the validation does.
enum OpenAPIDocument {
    static func json(catalog: GameCatalog) -> String {
        let modes = catalog.modes.map { "\"\($0)\"" }.joined(separator: ", ")
        let maps = catalog.allMaps.map { "\"\($0)\"" }.joined(separator: ", ")
        let players = MatchSettings.maxPlayersRange, ticks = MatchSettings.tickRateRange
        let scores = MatchSettings.scoreLimitRange, times = MatchSettings.timeLimitRange
        return #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Arbiter control port",
    "version": "0.1.0",
    "description": "The HTTP/JSON control port of the Arbiter game backend: accounts and sessions, friends, games and invites, joining matches (connect tokens for the UDP game server), leaderboards and chat.\n\nJSON keys are snake_case and dates are ISO 8601 (UTC). Optional response fields are omitted when empty, never null. Request bodies are limited to 64 KiB. Every route except registration, login, `/healthz` and `/openapi.json` needs `Authorization: Bearer <token>`. Every error is `{\"error\": {\"code\", \"message\"}}`. Ids in paths that are not positive integers answer 404."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "security": [
    {
      "bearer": []
    }
  ],
  "tags": [
    {
      "name": "meta"
    },
    {
      "name": "accounts"
    },
    {
      "name": "players"
    },
    {
      "name": "friends"
    },
    {
      "name": "games"
    },
    {
      "name": "leaderboards"
    },
    {
      "name": "chat"
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "getHealth",
        "summary": "Liveness check",
        "description": "Answers `{\"status\": \"ok\"}` while the control port runs.",
        "tags": [
          "meta"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "The server is up.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "getOpenAPIDocument",
        "summary": "This document",
        "description": "The OpenAPI 3.1 description of every HTTP route.",
        "tags": [
          "meta"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/v1/accounts": {
      "post": {
        "operationId": "register",
        "summary": "Register an account",
        "description": "Creates a player and a first session. Usernames are unique (compared without case) and a taken one is answered 409 `username_taken`: usernames are public anyway. Whether an email address is already registered is never revealed: a taken address registers exactly like a free one (201, a session, the address shown back), but only the first account to register an address holds its claim. Registrations are rate limited per client address (burst 5, then 5 per 10 minutes); the password is hashed whatever the outcome.",
        "tags": [
          "accounts"
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Registration"
              }
            }
          },
          "required": true
        },
        "security": [],
        "responses": {
          "201": {
            "description": "The account was created; the body holds a session for it.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SessionResponse"
                }
              }
            },
            "links": {
              "GetPlayer": {
                "operationId": "getPlayer",
                "description": "The new player's public profile.",
                "parameters": {
                  "id": "$response.body#/player/id"
                }
              },
              "GetPlayerStatistics": {
                "operationId": "getPlayerStatistics",
                "description": "The new player's statistics.",
                "parameters": {
                  "id": "$response.body#/player/id"
                }
              },
              "RequestFriend": {
                "operationId": "requestFriend",
                "description": "Ask the new player to be friends.",
                "requestBody": {
                  "username": "$response.body#/player/username"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`username_taken`: the username is taken (compared without case).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "Validation failed: `invalid_username` (3 to 32 of A-Z a-z 0-9 _ -), `invalid_email`, `invalid_password` (8 to 128 bytes) or `invalid_display_name` (1 to 32 printable characters).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "description": "`rate_limited`: too many registrations from this client address.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "`busy`: every password-hashing slot is taken and the waiting line (32 by default) is full; nothing was done. Retry after `Retry-After` seconds.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/sessions": {
      "post": {
        "operationId": "login",
        "summary": "Log in",
        "description": "Exchanges a username and password for a session token. Every attempt is charged to its failure budgets *before* the password is checked, and a success gives the charge back: per username and client address (burst 5, then 5 a minute), per client address (burst 20, then 20 a minute), and per username from all addresses (burst 100, then 100 an hour; addresses that logged in to or registered the account before are exempt from this one, so other people's failures do not lock the owner out). Unknown usernames are treated exactly like wrong passwords.",
        "tags": [
          "accounts"
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Login"
              }
            }
          },
          "required": true
        },
        "security": [],
        "responses": {
          "200": {
            "description": "The session: a new bearer token and the caller's profile.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SessionResponse"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`invalid_credentials`: unknown username or wrong password.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "description": "`rate_limited`: a failure budget is spent (see the description); nothing was checked.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "`busy`: every password-hashing slot is taken and the waiting line (32 by default) is full; nothing was done. Retry after `Retry-After` seconds.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/sessions/current": {
      "delete": {
        "operationId": "logout",
        "summary": "Log out",
        "description": "Revokes the session whose token authenticated this request, and closes the chat WebSockets that authenticated with it (`session_ended`).",
        "tags": [
          "accounts"
        ],
        "responses": {
          "204": {
            "description": "The session was revoked."
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/sessions/refresh": {
      "post": {
        "operationId": "refreshSession",
        "summary": "Refresh the session",
        "description": "Issues a new token for the same player; the token used for this request stops working, and the chat WebSockets that authenticated with it are closed (`session_ended`).",
        "tags": [
          "accounts"
        ],
        "responses": {
          "200": {
            "description": "The session: a new bearer token and the caller's profile.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SessionResponse"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/me": {
      "get": {
        "operationId": "getMe",
        "summary": "The caller's profile",
        "description": "The caller's private profile.",
        "tags": [
          "accounts"
        ],
        "responses": {
          "200": {
            "description": "The caller's profile.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PrivateProfile"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      },
      "patch": {
        "operationId": "updateMe",
        "summary": "Update the caller's profile",
        "description": "Changes the display name; absent fields are left as they are.",
        "tags": [
          "accounts"
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ProfileUpdate"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "description": "The updated profile.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PrivateProfile"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "`invalid_display_name`: 1 to 32 printable characters after trimming.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/players/{id}": {
      "get": {
        "operationId": "getPlayer",
        "summary": "A player's public profile",
        "description": "Any player's public profile with statistics.",
        "tags": [
          "players"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The player's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PublicProfile"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/players/{id}/statistics": {
      "get": {
        "operationId": "getPlayerStatistics",
        "summary": "A player's statistics",
        "description": "Lifetime statistics of any player.",
        "tags": [
          "players"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The player's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The statistics.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PlayerStatistics"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/friends": {
      "get": {
        "operationId": "listFriends",
        "summary": "Friends and requests",
        "description": "The caller's friends, and friend requests in both directions, by username, a page at a time: follow `next_cursor` until it is absent.",
        "tags": [
          "friends"
        ],
        "responses": {
          "200": {
            "description": "The caller's friends and pending requests.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FriendList"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_query`: `limit` outside 1-100, or `cursor` longer than 64 bytes.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Entries per page.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 50
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The `next_cursor` of the previous page (the last username on it).",
            "schema": {
              "type": "string",
              "pattern": "^[A-Za-z0-9_-]{1,32}$"
            }
          }
        ]
      },
      "post": {
        "operationId": "requestFriend",
        "summary": "Send a friend request",
        "description": "Asks a player (by username) to be friends. Asking someone who already asked you accepts their request. An account may have at most 200 requests of its own pending at once.",
        "tags": [
          "friends"
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/FriendRequest"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "description": "The other player had already asked: the friendship is now accepted (or already was).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FriendList"
                }
              }
            },
            "links": {
              "GetPlayer": {
                "operationId": "getPlayer",
                "description": "The first listed player.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "AcceptFriend": {
                "operationId": "acceptFriend",
                "description": "Accept the first listed player's request.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "DeclineFriend": {
                "operationId": "declineFriend",
                "description": "Decline the first listed player's request.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "RemoveFriend": {
                "operationId": "removeFriend",
                "description": "Remove the first listed player.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              }
            }
          },
          "201": {
            "description": "A new pending request was created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FriendList"
                }
              }
            },
            "links": {
              "GetPlayer": {
                "operationId": "getPlayer",
                "description": "The first listed player.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "AcceptFriend": {
                "operationId": "acceptFriend",
                "description": "Accept the first listed player's request.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "DeclineFriend": {
                "operationId": "declineFriend",
                "description": "Decline the first listed player's request.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              },
              "RemoveFriend": {
                "operationId": "removeFriend",
                "description": "Remove the first listed player.",
                "parameters": {
                  "id": "$response.body#/friends/0/player_id"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no player has that username.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`already_requested`: the caller already asked that player; `too_many_friend_requests`: the caller has the most pending requests allowed (200 by default).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "`self_friendship`: the caller named themself.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/friends/{id}/accept": {
      "post": {
        "operationId": "acceptFriend",
        "summary": "Accept a friend request",
        "description": "Accepts the pending request that player `id` sent the caller.",
        "tags": [
          "friends"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The requesting player's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The caller's friends and pending requests.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FriendList"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no pending request from that player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/friends/{id}/decline": {
      "post": {
        "operationId": "declineFriend",
        "summary": "Decline a friend request",
        "description": "Deletes the pending request that player `id` sent the caller.",
        "tags": [
          "friends"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The requesting player's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The caller's friends and pending requests.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FriendList"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no pending request from that player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/friends/{id}": {
      "delete": {
        "operationId": "removeFriend",
        "summary": "Remove a friend",
        "description": "Ends the friendship with player `id`, or withdraws/discards a pending request in either direction.",
        "tags": [
          "friends"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The other player's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "204": {
            "description": "Removed."
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no friendship or request with that player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games": {
      "post": {
        "operationId": "createGame",
        "summary": "Create a game",
        "description": "Creates a game; the caller becomes its creator and first member, and the game gets its own leaderboard `game-{id}`. An account may have at most 100 open games at once.",
        "tags": [
          "games"
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/GameCreate"
              }
            }
          },
          "required": true
        },
        "responses": {
          "201": {
            "description": "The new game.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Game"
                }
              }
            },
            "links": {
              "GetGame": {
                "operationId": "getGame",
                "description": "The created game.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "UpdateGame": {
                "operationId": "updateGame",
                "description": "Change the created game.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "CloseGame": {
                "operationId": "closeGame",
                "description": "Close the created game.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "InvitePlayer": {
                "operationId": "invitePlayer",
                "description": "Invite someone to the created game.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "JoinGame": {
                "operationId": "joinGame",
                "description": "Join the created game's match.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "LeaveGame": {
                "operationId": "leaveGame",
                "description": "Leave the created game (the creator cannot).",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "GetScoreboard": {
                "operationId": "getScoreboard",
                "description": "The created game's live scores.",
                "parameters": {
                  "id": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`too_many_games`: the caller has the most open games allowed (100 by default); close one first.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "`invalid_name` (1 to 64 characters), `invalid_description` (at most 1000) or `invalid_settings` (mode arena; max_players 2-64; tick_rate 10-240; score_limit 1-100000; time_limit_seconds 10-86400; visibility public|private).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      },
      "get": {
        "operationId": "listGames",
        "summary": "List open public games",
        "description": "Open, public games in id order, a page at a time.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Games per page.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 20
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The `next_cursor` of the previous page.",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]{1,18}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of games.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GamePage"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_query`: `limit` outside 1-100, or `cursor` not a non-negative integer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}": {
      "get": {
        "operationId": "getGame",
        "summary": "A game",
        "description": "One game, if the caller may see it.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The game.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Game"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game, or a private game the caller may not see (not a member, creator or invitee).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      },
      "patch": {
        "operationId": "updateGame",
        "summary": "Update a game",
        "description": "Changes an open game's name, description or settings. Creator only.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/GameUpdate"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "description": "The updated game.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Game"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "`forbidden`: only the game's creator may change it.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game, or a private game the caller may not see (not a member, creator or invitee).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`game_closed`: the game is closed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "`invalid_name`, `invalid_description` or `invalid_settings` (see createGame).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}/close": {
      "post": {
        "operationId": "closeGame",
        "summary": "Close a game",
        "description": "Closes the game: no more joins, invites or changes. Creator only; closing twice is allowed.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The closed game.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Game"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "`forbidden`: only the game's creator may close it.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game, or a private game the caller may not see (not a member, creator or invitee).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}/invites": {
      "post": {
        "operationId": "invitePlayer",
        "summary": "Invite a player to a game",
        "description": "Invites a player (by username or id) to an open game. Members and the creator may invite; re-inviting a player who declined renews the invite.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/InviteCreate"
              }
            }
          },
          "required": true
        },
        "responses": {
          "201": {
            "description": "The (new or renewed) pending invite.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Invite"
                }
              }
            },
            "links": {
              "AcceptInvite": {
                "operationId": "acceptInvite",
                "description": "Accept the invite (as the invitee).",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "DeclineInvite": {
                "operationId": "declineInvite",
                "description": "Decline the invite (as the invitee).",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "GetGame": {
                "operationId": "getGame",
                "description": "The game invited to.",
                "parameters": {
                  "id": "$response.body#/game_id"
                }
              },
              "GetInvitee": {
                "operationId": "getPlayer",
                "description": "The invited player.",
                "parameters": {
                  "id": "$response.body#/invitee_id"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_body` / `bad_request`: the body is not JSON, or a field has the wrong type, or a required field is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "`forbidden`: only members may invite.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game (or not visible to the caller), or no such player.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`game_closed`, `already_member` or `already_invited`; or `too_many_invites`: the caller has the most pending invites out allowed (200 by default).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "`body_too_large`: the request body is larger than 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "422": {
            "description": "`invalid_invite`: neither username nor player_id given, or the caller invited themself.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/invites": {
      "get": {
        "operationId": "listInvites",
        "summary": "Pending invites",
        "description": "The caller's pending game invites, oldest first, a page at a time: follow `next_cursor` until it is absent.",
        "tags": [
          "games"
        ],
        "responses": {
          "200": {
            "description": "The pending invites.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/InviteList"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_query`: `limit` outside 1-100, or `cursor` not a non-negative integer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Invites per page.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 50
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The `next_cursor` of the previous page.",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]{1,18}$"
            }
          }
        ]
      }
    },
    "/v1/invites/{id}/accept": {
      "post": {
        "operationId": "acceptInvite",
        "summary": "Accept an invite",
        "description": "Accepts a pending invite addressed to the caller, making them a member of the game. Answers with the invite as answered (its `status` now `accepted`).",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The invite's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The invite, accepted.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Invite"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no pending invite with that id addressed to the caller.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/invites/{id}/decline": {
      "post": {
        "operationId": "declineInvite",
        "summary": "Decline an invite",
        "description": "Declines a pending invite addressed to the caller. Answers with the invite as answered (its `status` now `declined`).",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The invite's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The invite, declined.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Invite"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no pending invite with that id addressed to the caller.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}/join": {
      "post": {
        "operationId": "joinGame",
        "summary": "Join a game's match",
        "description": "Joins the game (public games, or private ones the caller is a member of or invited to), starting a match when none runs, and returns a connect token for the UDP game server. A token is only handed out for a match the game server holds open for it; a session whose match the server no longer runs (a crash, or no one connected) is closed as `abandoned` and a fresh match starts.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A connect token for the running match.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JoinResponse"
                }
              }
            },
            "links": {
              "GetScoreboard": {
                "operationId": "getScoreboard",
                "description": "The match's live scores.",
                "parameters": {
                  "id": "$request.path.id"
                }
              },
              "LeaveGame": {
                "operationId": "leaveGame",
                "description": "Leave the game.",
                "parameters": {
                  "id": "$request.path.id"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "`forbidden`: this private game needs an invite.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game, or a private game the caller may not see (not a member, creator or invitee).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`game_closed`, `match_full` (the match already has max_players participants), or `too_many_matches` (the caller is already in as many running matches as the server allows one account, 2 by default).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "`no_game_server`: no game server could start (or reach) a match.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}/leave": {
      "post": {
        "operationId": "leaveGame",
        "summary": "Leave a game",
        "description": "Gives up membership of the game. The creator cannot leave (close the game instead). The player's chat sockets are unsubscribed from `game:{id}` (each is sent `{\"type\": \"left\", \"channel\", \"reason\": \"left_game\"}`).",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "204": {
            "description": "The caller is no longer a member."
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game (or not visible to the caller), or the caller is not a member.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`owner_cannot_leave`: the creator cannot leave.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/games/{id}/scoreboard": {
      "get": {
        "operationId": "getScoreboard",
        "summary": "Live scoreboard",
        "description": "The live scores of the game's running match, if any.",
        "tags": [
          "games"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The game's id. Anything that is not a positive integer answers 404.",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The scoreboard (`running` false and no scores when no match runs).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Scoreboard"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such game, or a private game the caller may not see (not a member, creator or invitee).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/leaderboards/{board}": {
      "get": {
        "operationId": "getLeaderboard",
        "summary": "A leaderboard page",
        "description": "A page of a leaderboard, ranked by score (highest first, ties by player id): from rank `cursor`, or centred on the player given by `around`. A private game's board is visible only to those who may see the game.",
        "tags": [
          "leaderboards"
        ],
        "parameters": [
          {
            "name": "board",
            "in": "path",
            "required": true,
            "description": "`global`, or a game's board as `game-{id}` (also `game:{id}`). Other names answer 404.",
            "schema": {
              "type": "string",
              "pattern": "^(global|game[-:][1-9][0-9]{0,17})$"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Entries per page.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 10
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "The 0-based rank to start at (the `next_cursor` of the previous page). Ignored when `around` is given.",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]{1,8}$"
            }
          },
          {
            "name": "around",
            "in": "query",
            "required": false,
            "description": "`me`, or a player id: centre the page on that player's entry.",
            "schema": {
              "type": "string",
              "pattern": "^(me|[1-9][0-9]{0,17})$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Leaderboard"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_query`: `limit` outside 1-100, `cursor` outside 0-100000000, or `around` neither `me` nor a positive integer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such board, a private game's board the caller may not see (answered exactly like a board that does not exist), or the `around` player has no entry on it.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/chat/{channel}/messages": {
      "get": {
        "operationId": "getChatHistory",
        "summary": "Chat history",
        "description": "Stored messages of a channel, newest first. History is kept for 30 days and at most the newest 10 000 messages per channel (by default); older messages are deleted and never served.",
        "tags": [
          "chat"
        ],
        "parameters": [
          {
            "name": "channel",
            "in": "path",
            "required": true,
            "description": "`lobby` (everyone), `game:{id}` (that game's members and creator), or `dm:{player id}` (the direct conversation between the caller and that player).",
            "schema": {
              "type": "string",
              "pattern": "^(lobby|game:[1-9][0-9]{0,17}|dm:[1-9][0-9]{0,17})$"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Messages per page.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 200,
              "default": 50
            }
          },
          {
            "name": "before",
            "in": "query",
            "required": false,
            "description": "Only messages with a smaller id (the `next_before` of the previous page).",
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of messages.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChatHistory"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_query`: `limit` outside 1-200, or `before` not a positive integer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "`forbidden`: only the game's members may read its channel.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "`not_found`: no such channel (bad name, DM with oneself), no such DM player, or `game:{id}` of a game that does not exist or is private and not visible to the caller.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/chat": {
      "get": {
        "operationId": "chatSocket",
        "summary": "Chat (WebSocket)",
        "description": "Upgrades to a WebSocket (send `Connection: Upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`). Authenticate with `Authorization: Bearer <token>` or, where a browser cannot set headers, the `token` query parameter. While connected the player counts as online for their friends.\n\nThe protocol is JSON in text frames (binary frames are answered with an `unsupported` error; frames are at most 16 KiB).\n\nClient to server:\n- `{\"type\": \"join\", \"channel\": C}`: subscribe to channel C; answered `{\"type\": \"joined\", \"channel\": C}`.\n- `{\"type\": \"leave\", \"channel\": C}`: unsubscribe; answered `{\"type\": \"left\", \"channel\": C}`.\n- `{\"type\": \"send\", \"channel\": C, \"body\": \"...\"}`: post to a joined channel (1 to 500 bytes of UTF-8, not characters; at most 10 in a burst, then 5 a second per player). The message is stored and relayed to every subscriber, including the sender.\n\nChannels: `lobby` (everyone), `game:{id}` (that game's members and creator), or `dm:{player id}` (the direct conversation between the caller and that player).\n\nServer to client:\n- a message: `{\"type\": \"message\", \"id\", \"channel\", \"sender_id\", \"sender_name\", \"body\", \"sent_at\"}` (a ChatMessage; `channel` as the receiver names it, so a DM from player 7 arrives to player 42 as `dm:7`).\n- `{\"type\": \"joined\"|\"left\", \"channel\"}` acknowledgements; `left` also arrives unasked, with `\"reason\": \"left_game\"`, when the player leaves that game.\n- `{\"type\": \"error\", \"code\", \"message\"}`, with codes `invalid_command`, `not_joined`, `invalid_body`, `rate_limited`, `forbidden`, `not_found`, `unsupported` and `internal`. Errors do not close the connection.\n\nAn upgrade request is always accepted; without a valid session the server sends one `{\"type\":\"error\",\"code\":\"unauthorized\"}` frame and closes the socket with code 1008 (policy violation). It closes a socket the same way, after an error frame, with code `too_many_connections` when the account already has the most chat sockets open (4 by default), `session_ended` when the session the socket authenticated with is logged out or refreshed, and `slow_consumer` when frames waiting for the client to read them would exceed 64 KiB (a slow reader is disconnected, not buffered for).",
        "tags": [
          "chat"
        ],
        "parameters": [
          {
            "name": "token",
            "in": "query",
            "required": false,
            "description": "The session token, for clients that cannot send an Authorization header.",
            "schema": {
              "type": "string",
              "maxLength": 128
            }
          },
          {
            "name": "Upgrade",
            "in": "header",
            "required": true,
            "schema": {
              "type": "string",
              "const": "websocket"
            }
          }
        ],
        "responses": {
          "101": {
            "description": "Switching Protocols: the connection is now a chat WebSocket.",
            "headers": {
              "Upgrade": {
                "schema": {
                  "type": "string",
                  "const": "websocket"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the `Authorization: Bearer <token>` header is missing, or the token is unknown, expired or revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "426": {
            "description": "Upgrade Required: an authenticated plain GET; /v1/chat only serves WebSocket upgrades.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "description": "Every metric in the Prometheus text exposition format: tick duration histogram, overruns, connected clients, matches, datagrams and bytes by direction, drops by reason, client RTT and loss, channel faults by kind, rate-limited packets, control-port request latency by route, logins, registrations, chat messages. Labels are bounded (no per-player labels). When the server runs with `--metrics-token`, the request needs `Authorization: Bearer` that token (401 otherwise).",
        "security": [],
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "The metrics.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "description": "`unauthorized`: the server requires the metrics bearer token and the request did not carry it.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/server/stats": {
      "get": {
        "operationId": "serverStats",
        "summary": "The server's essentials as JSON",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "Tick durations (milliseconds, and cumulative microsecond buckets to subtract between readings), matches, clients, traffic, drops, client RTT and loss, process CPU and memory.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ServerStats"
                }
              }
            }
          },
          "401": {
            "description": "No valid session.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "No game server runs in this process (code no_game_server).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A session token from POST /v1/accounts, /v1/sessions or /v1/sessions/refresh."
      }
    },
    "schemas": {
      "ChatHistory": {
        "type": "object",
        "properties": {
          "messages": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ChatMessage"
            },
            "description": "Newest first."
          },
          "next_before": {
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "description": "Pass as `before` for older messages; absent when this page was not full."
          }
        },
        "required": [
          "messages"
        ],
        "additionalProperties": false
      },
      "ChatMessage": {
        "type": "object",
        "properties": {
          "type": {
            "type": "string",
            "const": "message"
          },
          "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "channel": {
            "type": "string",
            "description": "The channel as the viewer names it (`lobby`, `game:{id}`, `dm:{other player}`)."
          },
          "sender_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "sender_name": {
            "type": "string",
            "description": "The sender's username."
          },
          "body": {
            "type": "string"
          },
          "sent_at": {
            "type": "string",
            "format": "date-time"
          }
        },
        "required": [
          "body",
          "channel",
          "id",
          "sender_id",
          "sender_name",
          "sent_at",
          "type"
        ],
        "additionalProperties": false
      },
      "Error": {
        "type": "object",
        "description": "Every error response: `{\"error\": {\"code\": ..., \"message\": ...}}`.",
        "properties": {
          "error": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string",
                "description": "A stable, machine-readable code, e.g. `not_found`, `invalid_username`, `rate_limited`."
              },
              "message": {
                "type": "string",
                "description": "A human-readable explanation."
              }
            },
            "required": [
              "code",
              "message"
            ],
            "additionalProperties": false
          }
        },
        "required": [
          "error"
        ],
        "additionalProperties": false
      },
      "FriendEntry": {
        "type": "object",
        "properties": {
          "player_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "username": {
            "type": "string"
          },
          "display_name": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "friend",
              "incoming",
              "outgoing"
            ],
            "description": "`friend`; `incoming` (they asked you); `outgoing` (you asked them)."
          },
          "online": {
            "type": "boolean",
            "description": "Only ever true for `friend` entries: connected to chat or in a running match."
          }
        },
        "required": [
          "display_name",
          "online",
          "player_id",
          "status",
          "username"
        ],
        "additionalProperties": false
      },
      "FriendList": {
        "type": "object",
        "properties": {
          "friends": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/FriendEntry"
            },
            "description": "Sorted by username (without case)."
          },
          "next_cursor": {
            "type": "string",
            "description": "Pass as `cursor` for the next page; absent on the last page."
          }
        },
        "required": [
          "friends"
        ],
        "additionalProperties": false
      },
      "FriendRequest": {
        "type": "object",
        "properties": {
          "username": {
            "type": "string",
            "description": "The player to befriend."
          }
        },
        "required": [
          "username"
        ]
      },
      "Game": {
        "type": "object",
        "properties": {
          "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "name": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "created_by": {
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "description": "The creator's player id."
          },
          "status": {
            "type": "string",
            "enum": [
              "open",
              "closed"
            ]
          },
          "settings": {
            "$ref": "#/components/schemas/GameSettings"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "member_count": {
            "type": "integer",
            "minimum": 0
          }
        },
        "required": [
          "created_at",
          "created_by",
          "description",
          "id",
          "member_count",
          "name",
          "settings",
          "status"
        ],
        "additionalProperties": false
      },
      "GameCreate": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "description": "1 to 128 bytes of UTF-8 after trimming whitespace."
          },
          "description": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 4000,
            "description": "At most 4000 bytes of UTF-8; defaults to empty."
          },
          "settings": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/GameSettingsInput"
              },
              {
                "type": "null"
              }
            ],
            "description": "Defaults: mode arena, max_players 16, tick_rate 60, score_limit 20, time_limit_seconds 600, visibility public."
          }
        },
        "required": [
          "name"
        ],
        "examples": [
          {
            "name": "Friday arena",
            "description": "First to 20",
            "settings": {
              "max_players": 8,
              "visibility": "public"
            }
          }
        ]
      },
      "GamePage": {
        "type": "object",
        "properties": {
          "games": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Game"
            }
          },
          "next_cursor": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "Pass as `cursor` for the next page; absent on the last page."
          }
        },
        "required": [
          "games"
        ],
        "additionalProperties": false
      },
      "GameSettings": {
        "type": "object",
        "properties": {
          "mode": {
            "type": "string",
            "enum": [\#(modes)]
          },
          "max_players": {
            "type": "integer",
            "minimum": \#(players.lowerBound),
            "maximum": \#(players.upperBound)
          },
          "tick_rate": {
            "type": "integer",
            "description": "Ticks per second: at most 128 unless the server allows up to 240 (`--max-tick-rate`); above the server's limit answers 422.",
            "minimum": \#(ticks.lowerBound),
            "maximum": \#(ticks.upperBound)
          },
          "score_limit": {
            "type": "integer",
            "minimum": \#(scores.lowerBound),
            "maximum": \#(scores.upperBound)
          },
          "time_limit_seconds": {
            "type": "integer",
            "minimum": \#(times.lowerBound),
            "maximum": \#(times.upperBound)
          },
          "visibility": {
            "type": "string",
            "enum": [
              "public",
              "private"
            ]
          },
          "map": {
            "type": "string",
            "enum": [\#(maps)],
            "description": "The arena map."
          }
        },
        "required": [
          "max_players",
          "mode",
          "score_limit",
          "tick_rate",
          "time_limit_seconds",
          "visibility",
          "map"
        ],
        "additionalProperties": false
      },
      "GameSettingsInput": {
        "type": "object",
        "description": "Settings to change; absent or null fields keep their current (or default) value.",
        "properties": {
          "mode": {
            "type": [
              "string",
              "null"
            ],
            "enum": [\#(modes)]
          },
          "max_players": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": \#(players.lowerBound),
            "maximum": \#(players.upperBound)
          },
          "tick_rate": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": \#(ticks.lowerBound),
            "maximum": \#(ticks.upperBound)
          },
          "score_limit": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": \#(scores.lowerBound),
            "maximum": \#(scores.upperBound)
          },
          "time_limit_seconds": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": \#(times.lowerBound),
            "maximum": \#(times.upperBound)
          },
          "visibility": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "public",
              "private"
            ]
          },
          "map": {
            "type": "string",
            "enum": [\#(maps)],
            "description": "The arena map."
          }
        },
        "required": []
      },
      "GameUpdate": {
        "type": "object",
        "properties": {
          "name": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 128,
            "description": "1 to 128 bytes of UTF-8 after trimming whitespace."
          },
          "description": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 4000,
            "description": "At most 4000 bytes of UTF-8."
          },
          "settings": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/GameSettingsInput"
              },
              {
                "type": "null"
              }
            ]
          }
        },
        "required": []
      },
      "Health": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "const": "ok"
          }
        },
        "required": [
          "status"
        ],
        "additionalProperties": false
      },
      "Invite": {
        "type": "object",
        "properties": {
          "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "game_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "game_name": {
            "type": "string"
          },
          "inviter_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "inviter_name": {
            "type": "string",
            "description": "The inviter's username."
          },
          "invitee_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "accepted",
              "declined"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          }
        },
        "required": [
          "created_at",
          "game_id",
          "game_name",
          "id",
          "invitee_id",
          "inviter_id",
          "inviter_name",
          "status"
        ],
        "additionalProperties": false
      },
      "InviteCreate": {
        "type": "object",
        "description": "Give `username` or `player_id` (422 `invalid_invite` when neither).",
        "properties": {
          "username": {
            "type": [
              "string",
              "null"
            ],
            "description": "The player to invite (takes precedence over player_id)."
          },
          "player_id": {
            "type": [
              "integer",
              "null"
            ],
            "format": "int64",
            "description": "The player to invite, by id."
          }
        },
        "required": []
      },
      "InviteList": {
        "type": "object",
        "properties": {
          "invites": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Invite"
            },
            "description": "The caller's pending invites, oldest first."
          },
          "next_cursor": {
            "type": "string",
            "description": "Pass as `cursor` for the next page; absent on the last page."
          }
        },
        "required": [
          "invites"
        ],
        "additionalProperties": false
      },
      "JoinResponse": {
        "type": "object",
        "properties": {
          "server_address": {
            "type": "string",
            "description": "The game server's UDP address, `host:port`."
          },
          "connect_token": {
            "type": "string",
            "contentEncoding": "base64",
            "minLength": 2732,
            "maxLength": 2732,
            "pattern": "^[A-Za-z0-9+/]{2731}=$",
            "description": "The 2048-byte connect token, base64 (standard alphabet, padded)."
          },
          "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "When the connect token expires."
          },
          "client_id": {
            "type": "integer",
            "minimum": 0,
            "maximum": 18446744073709551615,
            "description": "The client id inside the token (the player id)."
          },
          "match_id": {
            "type": "integer",
            "minimum": 0,
            "maximum": 18446744073709551615
          },
          "game_session_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          }
        },
        "required": [
          "client_id",
          "connect_token",
          "expires_at",
          "game_session_id",
          "match_id",
          "server_address"
        ],
        "additionalProperties": false
      },
      "Leaderboard": {
        "type": "object",
        "properties": {
          "leaderboard": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/LeaderboardEntry"
            }
          },
          "board": {
            "type": "string",
            "description": "The board name as requested."
          },
          "operator": {
            "type": "string",
            "enum": [
              "best",
              "sum",
              "latest"
            ],
            "description": "How results fold into an entry: keep the best, add up, or keep the latest."
          },
          "total": {
            "type": "integer",
            "minimum": 0,
            "description": "Entries on the board."
          },
          "next_cursor": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "The 0-based rank to pass as `cursor` for the next page; absent on the last page."
          }
        },
        "required": [
          "leaderboard",
          "board",
          "operator",
          "total"
        ],
        "additionalProperties": false
      },
      "LeaderboardEntry": {
        "type": "object",
        "properties": {
          "player_name": {
            "type": "string",
            "description": "The player's username."
          },
          "score": {
            "type": "integer",
            "format": "int64"
          },
          "rank": {
            "type": "integer",
            "minimum": 1,
            "description": "1-based."
          },
          "player_id": {
            "type": "integer",
            "format": "int64"
          }
        },
        "required": [
          "player_id",
          "player_name",
          "rank",
          "score"
        ],
        "additionalProperties": false
      },
      "LiveScore": {
        "type": "object",
        "properties": {
          "player_id": {
            "type": "integer",
            "format": "int64"
          },
          "display_name": {
            "type": "string"
          },
          "score": {
            "type": "integer"
          },
          "kills": {
            "type": "integer"
          },
          "deaths": {
            "type": "integer"
          }
        },
        "required": [
          "deaths",
          "display_name",
          "kills",
          "player_id",
          "score"
        ],
        "additionalProperties": false
      },
      "Login": {
        "type": "object",
        "properties": {
          "username": {
            "type": "string"
          },
          "password": {
            "type": "string"
          }
        },
        "required": [
          "password",
          "username"
        ],
        "examples": [
          {
            "username": "ada_l",
            "password": "correct horse battery"
          }
        ]
      },
      "PlayerStatistics": {
        "type": "object",
        "properties": {
          "games_played": {
            "type": "integer",
            "minimum": 0
          },
          "wins": {
            "type": "integer",
            "minimum": 0
          },
          "kills": {
            "type": "integer",
            "minimum": 0
          },
          "deaths": {
            "type": "integer",
            "minimum": 0
          },
          "total_score": {
            "type": "integer"
          },
          "best_score": {
            "type": "integer"
          },
          "time_played_seconds": {
            "type": "number",
            "minimum": 0
          }
        },
        "required": [
          "best_score",
          "deaths",
          "games_played",
          "kills",
          "time_played_seconds",
          "total_score",
          "wins"
        ],
        "additionalProperties": false
      },
      "PrivateProfile": {
        "type": "object",
        "description": "The caller's own profile (includes the email address).",
        "properties": {
          "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "username": {
            "type": "string"
          },
          "display_name": {
            "type": "string"
          },
          "email": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          }
        },
        "required": [
          "created_at",
          "display_name",
          "email",
          "id",
          "username"
        ],
        "additionalProperties": false
      },
      "ProfileUpdate": {
        "type": "object",
        "properties": {
          "display_name": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 64,
            "description": "1 to 64 bytes of printable UTF-8 after trimming whitespace. Absent or null leaves it unchanged."
          }
        },
        "required": []
      },
      "PublicProfile": {
        "type": "object",
        "description": "What any player may see of another (never the email address).",
        "properties": {
          "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "username": {
            "type": "string"
          },
          "display_name": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "statistics": {
            "$ref": "#/components/schemas/PlayerStatistics"
          }
        },
        "required": [
          "created_at",
          "display_name",
          "id",
          "statistics",
          "username"
        ],
        "additionalProperties": false
      },
      "Registration": {
        "type": "object",
        "properties": {
          "username": {
            "type": "string",
            "minLength": 3,
            "maxLength": 32,
            "pattern": "^[A-Za-z0-9_-]{3,32}$",
            "description": "3 to 32 characters of A-Z, a-z, 0-9, `_` and `-`; unique (without case)."
          },
          "email": {
            "type": "string",
            "format": "email",
            "maxLength": 254,
            "description": "A valid address (at most 254 bytes, local part at most 64). Stored encrypted. Whether it is registered already is never revealed."
          },
          "password": {
            "type": "string",
            "minLength": 8,
            "maxLength": 128,
            "description": "8 to 128 bytes (UTF-8)."
          },
          "display_name": {
            "type": [
              "string",
              "null"
            ],
            "minLength": 1,
            "maxLength": 64,
            "description": "1 to 64 bytes of printable UTF-8 after trimming whitespace; defaults to the username."
          }
        },
        "required": [
          "username",
          "email",
          "password"
        ],
        "examples": [
          {
            "username": "ada_l",
            "email": "ada@example.com",
            "password": "correct horse battery",
            "display_name": "Ada"
          }
        ]
      },
      "Scoreboard": {
        "type": "object",
        "properties": {
          "game_id": {
            "type": "integer",
            "format": "int64",
            "minimum": 1
          },
          "match_id": {
            "type": "integer",
            "minimum": 0,
            "maximum": 18446744073709551615,
            "description": "The running match; absent when none runs."
          },
          "running": {
            "type": "boolean"
          },
          "scores": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/LiveScore"
            }
          }
        },
        "required": [
          "game_id",
          "running",
          "scores"
        ],
        "additionalProperties": false
      },
      "SessionResponse": {
        "type": "object",
        "properties": {
          "token": {
            "type": "string",
            "description": "The bearer token: send it as `Authorization: Bearer <token>`."
          },
          "expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "player": {
            "$ref": "#/components/schemas/PrivateProfile"
          }
        },
        "required": [
          "expires_at",
          "player",
          "token"
        ],
        "additionalProperties": false
      },
      "ServerTickStats": {
        "type": "object",
        "additionalProperties": false,
        "description": "The tick passes since the server started (a pass runs every match that is due once). The percentiles are running figures since the start; for a stretch of time, subtract two readings' `histogram`s (and each phase's), `count`s and `overruns`: each only grows while the server runs.",
        "required": [
          "count",
          "p50_ms",
          "p90_ms",
          "p99_ms",
          "p999_ms",
          "max_ms",
          "overruns",
          "phases",
          "histogram"
        ],
        "properties": {
          "histogram": {
            "$ref": "#/components/schemas/DurationHistogram",
            "description": "Every pass's duration since the server started."
          },
          "phases": {
            "type": "object",
            "additionalProperties": false,
            "description": "The tick pass by phase: receive (socket, decryption, channels, input decoding since the previous pass), simulate, snapshot_send (build, encrypt, send).",
            "required": ["receive", "simulate", "snapshot_send"],
            "properties": {
              "receive": { "$ref": "#/components/schemas/TickPhaseStats" },
              "simulate": { "$ref": "#/components/schemas/TickPhaseStats" },
              "snapshot_send": { "$ref": "#/components/schemas/TickPhaseStats" }
            }
          },
          "p50_ms": {
            "type": "number",
            "minimum": 0
          },
          "p90_ms": {
            "type": "number",
            "minimum": 0
          },
          "p99_ms": {
            "type": "number",
            "minimum": 0
          },
          "p999_ms": {
            "type": "number",
            "minimum": 0
          },
          "max_ms": {
            "type": "number",
            "minimum": 0
          },
          "count": {
            "type": "integer",
            "minimum": 0,
            "description": "Match ticks run since the server started (at least the passes the histogram counts)."
          },
          "overruns": {
            "type": "integer",
            "minimum": 0,
            "description": "Match ticks skipped to catch up since the server started."
          }
        }
      },
      "TickPhaseStats": {
        "type": "object",
        "additionalProperties": false,
        "required": ["p50_ms", "p99_ms", "max_ms", "histogram"],
        "properties": {
          "p50_ms": { "type": "number", "minimum": 0 },
          "p99_ms": { "type": "number", "minimum": 0 },
          "max_ms": { "type": "number", "minimum": 0 },
          "histogram": {
            "$ref": "#/components/schemas/DurationHistogram",
            "description": "This phase's duration in every pass since the server started."
          }
        }
      },
      "DurationHistogram": {
        "type": "object",
        "additionalProperties": false,
        "description": "Durations counted in fixed buckets whose bounds never change, so that two readings subtract (the durations recorded in between) and several servers' add up. Bounds are whole microseconds: below 128 µs one bucket per microsecond, [n, n+1); from 128 µs up 128 buckets per doubling, so in [2^k, 2^(k+1)) µs each bucket is 2^(k-7) µs wide (under 0.79 % of its lower bound); the last bucket, [16711680, 16777216) µs, also holds every longer duration. A bucket's duration is best read as its upper bound (the next bucket's lower bound).",
        "required": ["buckets"],
        "properties": {
          "buckets": {
            "type": "array",
            "description": "The non-empty buckets in ascending order, each as [lower bound in µs, count]. A bucket missing from the list holds none.",
            "items": {
              "type": "array",
              "minItems": 2,
              "maxItems": 2,
              "prefixItems": [
                { "type": "integer", "minimum": 0, "maximum": 16711680, "description": "The bucket's lower bound (µs)." },
                { "type": "integer", "minimum": 1, "description": "How many durations it holds." }
              ],
              "items": false
            }
          }
        }
      },
      "ServerStats": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "tick",
          "matches",
          "connected_clients",
          "datagrams_in",
          "datagrams_out",
          "bytes_in",
          "bytes_out",
          "drops",
          "rtt_p50_ms",
          "rtt_p99_ms",
          "mean_packet_loss",
          "cpu_seconds",
          "resident_memory_bytes"
        ],
        "properties": {
          "tick": {
            "$ref": "#/components/schemas/ServerTickStats"
          },
          "matches": {
            "type": "integer",
            "minimum": 0
          },
          "connected_clients": {
            "type": "integer",
            "minimum": 0
          },
          "datagrams_in": {
            "type": "integer",
            "minimum": 0
          },
          "datagrams_out": {
            "type": "integer",
            "minimum": 0
          },
          "bytes_in": {
            "type": "integer",
            "minimum": 0
          },
          "bytes_out": {
            "type": "integer",
            "minimum": 0
          },
          "drops": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Dropped datagrams by reason."
          },
          "rtt_p50_ms": {
            "type": "number",
            "minimum": 0
          },
          "rtt_p99_ms": {
            "type": "number",
            "minimum": 0
          },
          "mean_packet_loss": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "cpu_seconds": {
            "type": "number",
            "minimum": 0
          },
          "resident_memory_bytes": {
            "type": "integer",
            "minimum": 0
          },
          "game_thread_cpu_seconds": {
            "type": "number",
            "minimum": 0,
            "description": "CPU time of the game worker threads alone (summed), without the control port's: with `player_ticks`, the game's cost per player-tick."
          },
          "player_ticks": {
            "type": "integer",
            "minimum": 0,
            "description": "Match ticks times the clients each served, summed over the workers (only grows)."
          },
          "workers": {
            "type": "array",
            "description": "Each game worker (`arbiter serve --game-threads`): a thread with its own UDP port and matches. The fields above are their sum.",
            "items": {
              "$ref": "#/components/schemas/ServerWorkerStats"
            }
          }
        }
      },
      "ServerWorkerStats": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "index",
          "port",
          "tick",
          "matches",
          "connected_clients",
          "datagrams_in",
          "datagrams_out",
          "thread_cpu_seconds",
          "player_ticks"
        ],
        "properties": {
          "index": {
            "type": "integer",
            "minimum": 0
          },
          "port": {
            "type": "integer",
            "minimum": 0,
            "maximum": 65535,
            "description": "The worker's UDP port (connect tokens for its matches name it)."
          },
          "tick": {
            "$ref": "#/components/schemas/ServerTickStats"
          },
          "matches": {
            "type": "integer",
            "minimum": 0
          },
          "connected_clients": {
            "type": "integer",
            "minimum": 0
          },
          "datagrams_in": {
            "type": "integer",
            "minimum": 0
          },
          "datagrams_out": {
            "type": "integer",
            "minimum": 0
          },
          "thread_cpu_seconds": {
            "type": "number",
            "minimum": 0,
            "description": "CPU time the worker's thread has used."
          },
          "player_ticks": {
            "type": "integer",
            "minimum": 0
          }
        }
      }
    }
  }
}
"""#
    }
}

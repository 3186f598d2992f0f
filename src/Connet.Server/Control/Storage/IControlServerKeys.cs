namespace Connet.Server.Control.Storage;

/// <summary>
/// Secrets and identity a control server keeps across restarts. A store that implements this next to
/// <see cref="IControlStore"/> makes reconnect tokens (and with them client IDs) survive a restart.
/// </summary>
public interface IControlServerKeys
{
    /// <summary>A stable identifier of this server, generated on first use.</summary>
    string ServerId { get; }

    /// <summary>The 32-byte AES-256-GCM key that seals reconnect tokens.</summary>
    ReadOnlyMemory<byte> ReconnectTokenKey { get; }

    /// <summary>The 32-byte key for QUIC stateless reset tokens, so a restarted server can reset stale peers.</summary>
    ReadOnlyMemory<byte> StatelessResetKey { get; }

    /// <summary>
    /// The 32-byte X25519 private key of the NaCl box the server shares with every relay (its public half is
    /// <c>control_authentication_key</c>), so relays that reconnect after a restart can still open what it seals.
    /// </summary>
    ReadOnlyMemory<byte> RelayAuthenticationKey { get; }
}

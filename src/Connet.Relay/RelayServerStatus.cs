using System.Net;

namespace Connet.Relay;

/// <summary>Where the relay stands with its control server.</summary>
public enum RelayControlState
{
    NotStarted,

    /// <summary>The first attempt is under way.</summary>
    Connecting,

    /// <summary>Authenticated; clients sealed by this control server are accepted.</summary>
    Connected,

    /// <summary>The connection failed or was refused for a reason that may pass (see the last error); retrying with backoff.</summary>
    Reconnecting,

    /// <summary>Control refused the token; the relay stopped trying.</summary>
    AuthenticationFailed,

    Stopped,
}

/// <summary>A snapshot of a <see cref="RelayServer"/>.</summary>
/// <param name="ControlId">The control server's ID this relay belongs to (stored), or null before the first authentication.</param>
/// <param name="LastError">Why the last control attempt failed, if one did.</param>
/// <param name="Hostports">What clients are told to dial, as sent to control.</param>
/// <param name="IngressEndPoints">The bound address of each ingress, in configuration order.</param>
/// <param name="Endpoints">Every endpoint with a client connected, by name.</param>
public sealed record RelayServerStatus(
    RelayControlState ControlState,
    string? ControlId,
    string? LastError,
    IReadOnlyList<string> Hostports,
    IReadOnlyList<IPEndPoint> IngressEndPoints,
    IReadOnlyList<RelayEndpointStatus> Endpoints);

/// <summary>How many authenticated client connections an endpoint has on this relay, per role.</summary>
public sealed record RelayEndpointStatus(string Name, int Destinations, int Sources);

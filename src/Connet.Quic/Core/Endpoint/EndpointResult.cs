namespace Connet.Quic.Core.Endpoint;

internal enum EndpointResultKind
{
    /// <summary>Nothing to do: malformed, unroutable, unwanted or rate-limited.</summary>
    Dropped,

    /// <summary>Feed the datagram to the connection <see cref="EndpointResult.Handle"/>.</summary>
    Routed,

    /// <summary>
    /// A client's first Initial: create a server connection for <see cref="EndpointResult.Handle"/> (already routed by the
    /// Initial's DCID) with <see cref="EndpointResult.Accept"/>, then feed it the datagram.
    /// </summary>
    NewConnection,

    /// <summary>Send the first <see cref="EndpointResult.ResponseLength"/> bytes of the response buffer back to the sender.</summary>
    Response,

    /// <summary>Not QUIC (fixed bit clear): hand the datagram to the application as-is.</summary>
    Raw,
}

/// <summary>What a server connection must be created with, as learnt from the client's Initial and any Retry token.</summary>
internal readonly record struct AcceptInfo(
    ConnectionId OriginalDestinationConnectionId,
    ConnectionId? RetrySourceConnectionId,
    bool AddressValidated);

internal readonly record struct EndpointResult(
    EndpointResultKind Kind,
    ConnectionHandle Handle = default,
    int ResponseLength = 0,
    AcceptInfo Accept = default)
{
    public static EndpointResult Dropped => default;
}

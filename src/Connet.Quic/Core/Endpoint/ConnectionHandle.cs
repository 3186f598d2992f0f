namespace Connet.Quic.Core.Endpoint;

/// <summary>The endpoint's name for one connection it routes to; the I/O layer maps it to its driver.</summary>
internal readonly record struct ConnectionHandle(long Value);

namespace Connet.Quic.Tests.Interop;

/// <summary>What echo-client.mjs reported after verifying the echo byte for byte.</summary>
internal sealed record NodeEchoClientResult(long Bytes, long ElapsedMilliseconds);

namespace Connet.Quic.Core.Streams;

/// <summary>
/// What <see cref="StreamManager.TryPeekSend"/> offers: up to <see cref="MaxLength"/> bytes of stream
/// <see cref="StreamId"/> starting at <see cref="Offset"/>; <see cref="Fin"/> is true when sending all of them
/// also ends the stream.
/// </summary>
internal readonly record struct StreamSendCandidate(ulong StreamId, ulong Offset, int MaxLength, bool Fin);

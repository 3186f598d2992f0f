namespace Connet.Quic.Core.Frames;

/// <summary>The ECN counters an ACK_ECN frame reports (§19.3.2).</summary>
internal readonly record struct EcnCounts(ulong Ect0, ulong Ect1, ulong Ce);

namespace Connet.Quic;

/// <summary>Flow control windows a connection advertises and keeps replenishing (MAX_DATA / MAX_STREAM_DATA).</summary>
public sealed class QuicReceiveWindowSizes
{
    /// <summary>Bytes the peer may have in flight across all streams.</summary>
    public long Connection { get; set; } = QuicDefaults.ConnectionReceiveWindow;

    /// <summary>Bytes the peer may have in flight on any one stream.</summary>
    public long Stream { get; set; } = QuicDefaults.StreamReceiveWindow;

    internal void Validate(string argumentName)
    {
        OptionsValidation.InRange(Connection, 1024, QuicDefaults.MaxErrorCodeValue, argumentName, "InitialReceiveWindowSizes.Connection");
        OptionsValidation.InRange(Stream, 1024, Connection, argumentName, "InitialReceiveWindowSizes.Stream");
    }
}

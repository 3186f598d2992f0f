namespace Connet.NatLab.Tests;

/// <summary>Every NAT kind the lab offers behaves as named, measured by the probe, before any matrix cell trusts it.</summary>
[Collection(NatLabGroup.Name)]
public sealed class NatKindTests(NatLabFixture fixture)
{
    public static TheoryData<NatKind> Kinds => new(NatKinds.All);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task RouterBehavesAsItsKind(NatKind kind)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // Both sites get the kind, each with the other's kind on the far side, so both routers are checked.
        fixture.Lab.SetNat(kind, kind);

        var siteA = await NatProbe.ClassifyAsync(fixture.Lab, 'a', timeout.Token);
        var siteB = await NatProbe.ClassifyAsync(fixture.Lab, 'b', timeout.Token);

        Assert.True(siteA.Kind == kind, $"router-a set to {kind} measured {siteA}");
        Assert.True(siteB.Kind == kind, $"router-b set to {kind} measured {siteB}");
        if (kind != NatKind.Symmetric)
        {
            // One host per site, so masquerade keeps the port: the public endpoint is WAN:host port.
            Assert.Equal(NatLab.WanAddress('a'), siteA.FirstMapping.Address);
        }
    }
}

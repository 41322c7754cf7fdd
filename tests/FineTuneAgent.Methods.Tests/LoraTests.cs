using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Dora;
using FineTuneAgent.Methods.Lora;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

public sealed class LoraTests
{
    private static IFineTuneMethod MethodNamed(string name) => name == "dora" ? new DoraMethod() : new LoraMethod();

    public static TheoryData<string, bool> MethodsAndModels => new() { { "lora", true }, { "lora", false }, { "dora", true }, { "dora", false } };

    private static JsonObject ModelJson(bool qwen3) => qwen3 ? Models.Qwen3Json() : Models.LlamaJson();

    [Theory]
    [MemberData(nameof(MethodsAndModels))]
    public void Initialisation_LeavesTheModelOutputUnchanged(string method, bool qwen3)
    {
        using var model = Models.Build(ModelJson(qwen3));
        using var ids = Models.Tokens(model);
        using var before = Models.Logits(model, ids);
        var m = MethodNamed(method);
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["lora_alpha"] = 8 }));
        Assert.Equal(14, ((LoraAdaptedModel)adapted).Layers.Count); // 7 projections × 2 layers ("all-linear")
        using var after = Models.Logits(model, ids);
        Assert.True(Models.MaxAbsDiff(before, after) <= 1e-6f, $"max diff {Models.MaxAbsDiff(before, after)}");
    }

    [Theory]
    [MemberData(nameof(MethodsAndModels))]
    public void AfterTraining_MergedAndUnmergedForwardsAgree_AndUnmergeRestoresTheBase(string method, bool qwen3)
    {
        using var model = Models.Build(ModelJson(qwen3));
        using var ids = Models.Tokens(model);
        var m = MethodNamed(method);
        var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["lora_alpha"] = 8, ["lora_dropout"] = 0.1 }));
        Models.Train(model, adapted.ParameterGroups(0.05, 0.0));
        var baseBefore = adapted.Layers.ToDictionary(kv => kv.Key, kv => ((Linear)kv.Value.BaseLayer).weight.clone());
        try
        {
            using var unmerged = Models.Logits(model, ids);
            using var ignored = Models.Tokens(model);
            adapted.Merge();
            Assert.True(adapted.IsMerged);
            using var merged = Models.Logits(model, ids);
            Assert.True(Models.MaxAbsDiff(unmerged, merged) <= 1e-5f, $"merged vs unmerged: {Models.MaxAbsDiff(unmerged, merged)}");
            // Merging really changed the weights (the adapters trained away from zero).
            Assert.Contains(adapted.Layers, kv => Models.MaxAbsDiff(((Linear)kv.Value.BaseLayer).weight, baseBefore[kv.Key]) > 1e-4f);

            adapted.Unmerge();
            Assert.False(adapted.IsMerged);
            foreach (var (path, layer) in adapted.Layers)
                Assert.True(Models.MaxAbsDiff(((Linear)layer.BaseLayer).weight, baseBefore[path]) <= 1e-6f, path);
            using var again = Models.Logits(model, ids);
            Assert.True(Models.MaxAbsDiff(unmerged, again) <= 1e-5f);
        }
        finally
        {
            foreach (var t in baseBefore.Values)
                t.Dispose();
        }
    }

    [Fact]
    public void MergeThenUnmerge_OfAnUntrainedAdapter_RestoresTheBaseBitForBit()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new LoraMethod();
        var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(null));
        var before = adapted.Layers.Values.Select(l => ((Linear)l.BaseLayer).weight.clone()).ToList();
        adapted.Merge();
        adapted.Unmerge();
        foreach (var (layer, w) in adapted.Layers.Values.Zip(before))
        {
            Assert.True(((Linear)layer.BaseLayer).weight.equal(w));
            w.Dispose();
        }
    }

    /// <summary>DoRA against its formula, written out here with plain tensor ops.</summary>
    [Fact]
    public void DoraForward_EqualsTheFormula_AndItsGradientsTreatTheNormAsConstant()
    {
        manual_seed(3);
        using var linear = new Linear(12, 10, hasBias: true);
        using var lora = new LoraLinear(linear, rank: 3, alpha: 6, useDora: true);
        using (no_grad())
        {
            lora.lora_A.weight.normal_(0, 0.5);
            lora.lora_B.weight.normal_(0, 0.5);
            lora.lora_magnitude_vector!.uniform_(0.5, 2.0);
        }
        lora.eval();
        using var x = randn([5, 12]);
        using var y = lora.forward(x);
        y.sum().backward();
        using var gradA = lora.lora_A.weight.grad!;
        using var gradM = lora.lora_magnitude_vector!.grad!;

        using var scope = NewDisposeScope();
        var w = linear.weight.detach();
        var b = linear.bias!.detach();
        var a = lora.lora_A.weight.detach().clone().requires_grad_(true);
        var bb = lora.lora_B.weight.detach().clone();
        var m = lora.lora_magnitude_vector.detach().clone().requires_grad_(true);
        const double s = 2.0; // alpha / r
        var combined = w.add(bb.mm(a), s);
        var norm = linalg.vector_norm(combined, 2, [1]).detach();
        var expected = x.mm(combined.t()).mul(m.div(norm).unsqueeze(0)).add(b);
        Assert.True(Models.MaxAbsDiff(y, expected) <= 1e-5f, $"forward diff {Models.MaxAbsDiff(y, expected)}");
        expected.sum().backward();
        Assert.True(Models.MaxAbsDiff(gradA, a.grad!) <= 1e-4f, "grad A");
        Assert.True(Models.MaxAbsDiff(gradM, m.grad!) <= 1e-4f, "grad m");
    }

    [Fact]
    public void Lora_ForwardEqualsBasePlusScaledBA_WithRsLoraScaling()
    {
        manual_seed(5);
        using var linear = new Linear(8, 6, hasBias: false);
        using var lora = new LoraLinear(linear, rank: 4, alpha: 6, useRsLora: true);
        Assert.Equal(3.0, lora.Scaling, 12); // alpha / sqrt(r)
        using (no_grad())
            lora.lora_B.weight.normal_(0, 1);
        using var x = randn([3, 8]);
        using var grad = no_grad();
        using var y = lora.forward(x);
        using var scope = NewDisposeScope();
        var expected = x.mm(linear.weight.t()).add(x.mm(lora.lora_A.weight.t()).mm(lora.lora_B.weight.t()).mul(3.0));
        Assert.True(Models.MaxAbsDiff(y, expected) <= 1e-5f);
    }

    [Fact]
    public void DefaultInit_IsKaimingUniformA_AndZeroB()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new LoraMethod();
        var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 8 }));
        var q = adapted.Layers["model.layers.0.self_attn.q_proj"];
        Assert.Equal(0f, q.lora_B.weight.abs().max().ToSingle());
        var bound = 1.0 / Math.Sqrt(32); // kaiming_uniform(a=√5) on fan_in 32
        var a = q.lora_A.weight;
        Assert.True(a.abs().max().ToDouble() <= bound);
        Assert.True(a.abs().max().ToDouble() > 0.8 * bound);
        Assert.Equal([8L, 32L], a.shape);
    }

    [Fact]
    public void TargetModules_NamesRegexAndAllLinear_SelectThePathsPeftWould()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new LoraMethod();
        var names = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["target_modules"] = new JsonArray("q_proj", "v_proj") }));
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"], names.Layers.Keys.Order());

        using var model2 = Models.Build(Models.Qwen3Json());
        var regex = (LoraAdaptedModel)m.Adapt(model2, Models.Template, m.ParseSettings(new JsonObject { ["target_modules"] = @".*\.1\.mlp\.(up|down)_proj" }));
        Assert.Equal(["model.layers.1.mlp.down_proj", "model.layers.1.mlp.up_proj"], regex.Layers.Keys.Order());

        using var model3 = Models.Build(Models.Qwen3Json());
        var e = Assert.Throws<MethodSettingsException>(() => m.Adapt(model3, Models.Template, m.ParseSettings(new JsonObject { ["target_modules"] = new JsonArray("qproj") })));
        Assert.Equal("target_modules", e.Field);
        Assert.Contains("matches no linear layer", e.Message);
    }

    [Fact]
    public void RankAndAlphaPatterns_OverrideTheDefaultsPerModule()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new LoraMethod();
        var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject
        {
            ["r"] = 4,
            ["lora_alpha"] = 8,
            ["rank_pattern"] = new JsonObject { ["down_proj"] = 2 },
            ["alpha_pattern"] = new JsonObject { ["model.layers.1.self_attn.q_proj"] = 3 },
        }));
        Assert.Equal(2, adapted.Layers["model.layers.0.mlp.down_proj"].Rank);
        Assert.Equal(4, adapted.Layers["model.layers.0.mlp.up_proj"].Rank);
        Assert.Equal(0.75, adapted.Layers["model.layers.1.self_attn.q_proj"].Scaling, 12);
        Assert.Equal(2.0, adapted.Layers["model.layers.0.self_attn.q_proj"].Scaling, 12);
    }

    [Fact]
    public void Pissa_SplitsTheTopSingularDirectionsOff_AndLeavesTheOutputUnchanged()
    {
        using var model = Models.Build(Models.LlamaJson());
        using var ids = Models.Tokens(model);
        var original = ProjectionSlot.Of(model).ToDictionary(s => s.Name, s => ((Linear)s.Module).weight.clone());
        using var before = Models.Logits(model, ids);
        var m = new LoraMethod();
        var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 3, ["lora_alpha"] = 6, ["init_lora_weights"] = "pissa" }));
        using var after = Models.Logits(model, ids);
        Assert.True(Models.MaxAbsDiff(before, after) <= 1e-4f, $"{Models.MaxAbsDiff(before, after)}");
        foreach (var (path, layer) in adapted.Layers)
        {
            using var scope = NewDisposeScope();
            var w = original[path];
            var delta = layer.DeltaWeight();
            var residual = ((Linear)layer.BaseLayer).weight;
            Assert.True(Models.MaxAbsDiff(residual.add(delta), w) <= 1e-5f, path);
            // s·B A is the best rank-3 approximation: its singular values are W's top three,
            // and the residual's are the rest.
            var sw = linalg.svd(w, full_matrices: false).S;
            var sd = linalg.svd(delta, full_matrices: false).S;
            var sr = linalg.svd(residual, full_matrices: false).S;
            Assert.True(Models.MaxAbsDiff(sd.narrow(0, 0, 3), sw.narrow(0, 0, 3)) <= 1e-4f, path);
            Assert.True(Models.MaxAbsDiff(sr.narrow(0, 0, sw.shape[0] - 3), sw.narrow(0, 3, sw.shape[0] - 3)) <= 1e-4f, path);
        }
        foreach (var t in original.Values)
            t.Dispose();
    }

    [Fact]
    public void LoraPlus_GivesBAndOneDimensionalParametersTheScaledRate()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new DoraMethod();
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["loraplus_lr_ratio"] = 16 }));
        var groups = adapted.ParameterGroups(1e-4, 0.01);
        var names = adapted.TrainableParameters.ToDictionary(p => p.Parameter, p => p.Name);
        Assert.Equal(2, groups.Count);
        Assert.Equal(1e-4, groups[0].LearningRate, 12);
        Assert.All(groups[0].Parameters, p => Assert.Contains(".lora_A.", names[p]));
        Assert.Equal(16e-4, groups[1].LearningRate, 12);
        Assert.All(groups[1].Parameters, p => Assert.True(names[p].Contains(".lora_B.") || names[p].EndsWith(".lora_magnitude_vector"), names[p]));
        Assert.Equal(adapted.TrainableParameters.Count, groups.Sum(g => g.Parameters.Count));
        Assert.Equal(14 * 3, adapted.TrainableParameters.Count);
    }

    [Theory]
    [InlineData("{\"lora_alhpa\": 16}", "lora_alhpa", "did you mean 'lora_alpha'")]
    [InlineData("{\"r\": 0}", "r", "out of range")]
    [InlineData("{\"r\": 2.5}", "r", "expected an integer")]
    [InlineData("{\"lora_dropout\": 1}", "lora_dropout", "out of range")]
    [InlineData("{\"target_modules\": 5}", "target_modules", "expected a list")]
    [InlineData("{\"target_modules\": \"(\"}", "target_modules", "not a valid regular expression")]
    [InlineData("{\"init_lora_weights\": \"pissa_niter_4\"}", "init_lora_weights", "not supported")]
    [InlineData("{\"init_lora_weights\": \"olora\"}", "init_lora_weights", "expected true, false")]
    [InlineData("{\"use_dora\": true}", "use_dora", "choose the dora method")]
    [InlineData("{\"rank_pattern\": {\"q_proj\": 0}}", "rank_pattern.q_proj", "invalid value")]
    [InlineData("{\"loraplus_lr_ratio\": 0}", "loraplus_lr_ratio", "out of range")]
    [InlineData("{\"r\": null}", "r", "null is not a value")]
    [InlineData("{\"init_lora_weights\": \"loftq\"}", "init_lora_weights", "loftq")]
    public void BadSettings_AreRejected_NamingTheField(string json, string field, string message)
    {
        var e = Assert.Throws<MethodSettingsException>(() => new LoraMethod().ParseSettings(JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Settings_RoundTripThroughTheirJson()
    {
        var m = new LoraMethod();
        var s = (LoraSettings)m.ParseSettings(new JsonObject { ["r"] = 16, ["lora_alpha"] = 32, ["target_modules"] = new JsonArray("q_proj"), ["use_rslora"] = true, ["loraplus_lr_ratio"] = 8 });
        var again = (LoraSettings)m.ParseSettings(s.ToJson());
        Assert.Equal(s.ToJson().ToJsonString(), again.ToJson().ToJsonString());
        Assert.Equal(16, again.Rank);
        Assert.Equal(8, again.LoraPlusRatio);
        Assert.Equal(16.0, ((LoraSettings)m.ParseSettings(null)).Alpha); // LLaMA-Factory's default: 2r with r = 8
        Assert.Equal(8.0, ((LoraSettings)m.ParseSettings(new JsonObject { ["r"] = 4 })).Alpha);
    }

    /// <summary>
    /// The forward adds s·(x·Aᵀ)·Bᵀ onto the base output inside one addmm: values and the gradients of x, A and B
    /// against the composition written out (PEFT's result + lora_B(lora_A(x))·s) through autograd, for a (batch,
    /// sequence, features) input in float32, and under bfloat16 autocast over a bfloat16 base.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_AsOneAddmm_GivesTheWrittenOutCompositionsValuesAndGradients(bool bf16)
    {
        manual_seed(13);
        var baseType = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var linear = new Linear(16, 12, hasBias: true, dtype: baseType);
        using var lora = new LoraLinear(linear, rank: 4, alpha: 12);   // s = 3: not a power of two
        using (no_grad())
            lora.lora_B.weight.normal_(0, 0.5);
        using var x0 = randn([2, 5, 16]).to_type(baseType);
        using var upstream = randn([2, 5, 12]);

        using var x = x0.clone().requires_grad_();
        Tensor y;
        using (bf16 ? autocast(DeviceType.CPU, ScalarType.BFloat16) : null)
            y = lora.forward(x);
        y.@float().mul(upstream).sum().backward();

        // The reference in float32 from the same numbers, the product and the scaling as separate ops.
        using var scope = NewDisposeScope();
        var xr = x0.@float().requires_grad_();
        var a = lora.lora_A.weight.detach().clone().requires_grad_();
        var b = lora.lora_B.weight.detach().clone().requires_grad_();
        var expected = nn.functional.linear(xr, linear.weight.@float(), linear.bias!.@float())
            .add(nn.functional.linear(nn.functional.linear(xr, a), b).mul(3.0));
        expected.mul(upstream).sum().backward();

        var tolerance = bf16 ? 2e-2 : 1e-5;
        void Close(Tensor e, Tensor actual, string what)
        {
            var scale = Math.Max(1e-3, e.abs().max().ToDouble());
            var diff = Models.MaxAbsDiff(actual.@float(), e);
            Assert.True(diff <= tolerance * scale, $"{what}: max |Δ| {diff} against scale {scale}");
        }
        Assert.Equal(baseType, y.dtype);
        Close(expected, y, "output");
        Close(xr.grad!, x.grad!, "x gradient");
        Close(a.grad!, lora.lora_A.weight.grad!, "A gradient");
        Close(b.grad!, lora.lora_B.weight.grad!, "B gradient");
        y.Dispose();
    }

    /// <summary>Over a bf16 base the adapters stay fp32 (as PEFT keeps them), the layer answers in bf16.</summary>
    [Fact]
    public void OverABf16Base_AdaptersStayFp32_OutputIsBf16_AndMatchesTheFp32Update()
    {
        manual_seed(9);
        using var linear = new Linear(16, 12, hasBias: true, dtype: ScalarType.BFloat16);
        using var lora = new LoraLinear(linear, rank: 4, alpha: 8);
        Assert.Equal(ScalarType.Float32, lora.lora_A.weight.dtype);
        using (no_grad())
            lora.lora_B.weight.normal_(0, 0.5);
        using var x = randn([3, 16]).to_type(ScalarType.BFloat16);
        using var y = lora.forward(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        y.@float().sum().backward();
        using var gradB = lora.lora_B.weight.grad!;
        Assert.Equal(ScalarType.Float32, gradB.dtype);
        Assert.Null(linear.weight.grad);

        using var scope = NewDisposeScope();
        var baseOut = nn.functional.linear(x, linear.weight, linear.bias).@float();
        var update = x.@float().mm(lora.lora_A.weight.t()).mm(lora.lora_B.weight.t()).mul(2.0);
        var expected = baseOut.add(update);
        // One bf16 rounding of the sum: relative 2^-8.
        var tolerance = expected.abs().max().ToSingle() / 128;
        Assert.True(Models.MaxAbsDiff(y.@float(), expected) <= tolerance, $"{Models.MaxAbsDiff(y.@float(), expected)} > {tolerance}");
    }

    [Fact]
    public void TargetModules_CommaForm_IsAListOfNames_AndUnsupportedOrUnknownNamesAreErrors()
    {
        var m = new LoraMethod();
        using (var model = Models.Build(Models.Qwen3Json()))
        {
            var adapted = (LoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["target_modules"] = "q_proj, v_proj" }));
            Assert.Equal(4, adapted.Layers.Count);
        }
        foreach (var (targets, fragment) in new[] { ("[\"q_proj\", \"lm_head\"]", "not supported"), ("[\"q_proj\", \"qkv_proj\"]", "\"qkv_proj\" matches no linear layer") })
        {
            using var model = Models.Build(Models.Qwen3Json());
            var e = Assert.Throws<MethodSettingsException>(() => m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["target_modules"] = JsonNode.Parse(targets) })));
            Assert.Equal("target_modules", e.Field);
            Assert.Contains(fragment, e.Message);
            Assert.All(ProjectionSlot.Of(model), s => Assert.IsType<Linear>(s.Module)); // untouched
        }
        var estimate = Assert.Throws<MethodSettingsException>(() => m.EstimateMemory(Models.Config(Models.Qwen3Json()), new TrainingShape(), m.ParseSettings(new JsonObject { ["target_modules"] = "nothing_matches" })));
        Assert.Equal("target_modules", estimate.Field);
        Assert.Equal(LoraInit.Random, ((LoraSettings)m.ParseSettings(new JsonObject { ["init_lora_weights"] = "false" })).Init);
    }

    [Fact]
    public void Pissa_RankAboveALayersSmallerDimension_IsASettingsError_AndLeavesTheModelUntouched()
    {
        using var model = Models.Build(Models.LlamaJson()); // k_proj and v_proj have 8 outputs
        var m = new LoraMethod();
        var before = ((Linear)ProjectionSlot.Of(model)[0].Module).weight.clone();
        var e = Assert.Throws<MethodSettingsException>(() => m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 12, ["init_lora_weights"] = "pissa" })));
        Assert.Equal("r", e.Field);
        Assert.Contains("k_proj", e.Message);
        Assert.All(ProjectionSlot.Of(model), s => Assert.IsType<Linear>(s.Module));
        Assert.True(((Linear)ProjectionSlot.Of(model)[0].Module).weight.equal(before));
        before.Dispose();
    }

    /// <summary>Adapting and merging inside a caller's dispose scope must not hand the layer's own tensors to that scope.</summary>
    [Fact]
    public void PissaAndDoraMerge_InsideACallersDisposeScope_KeepTheirState_AndLeaveNoTensorsBehind()
    {
        var baseline = LiveTensors();
        var dir = Path.Combine(Path.GetTempPath(), $"fta-scope-{Guid.NewGuid():N}");
        try
        {
            using (var model = Models.Build(Models.LlamaJson()))
            {
                var m = new DoraMethod();
                AdaptedModel adapted;
                using (NewDisposeScope())
                    adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 2, ["init_lora_weights"] = "pissa" }));
                using (NewDisposeScope())
                    adapted.Merge();
                using (NewDisposeScope())
                    adapted.Unmerge();
                adapted.Save(dir, new AdapterSaveOptions("base"));
            }
            Assert.Equal(baseline, LiveTensors());
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    private static long LiveTensors()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.TotalCount;
    }
}

set terminal pngcairo size 520,480 font ',10'
set output '/tmp/scale/bq2/plot.png'
set multiplot layout 1,1 title 'cloudfs vs raw curl vs openstack CLI: list N servers + every status (fake cloud)'
set logscale xy; set autoscale xfix; set offsets graph 0.05, graph 0.05, 0, 0; set grid; set key top left; set xlabel 'servers'; set ylabel 'seconds'
set title '0 ms per request'
plot '/tmp/scale/bq2/plot-L0.dat' u 1:2 w lp pt 7 t 'cloudfs cold', '' u 1:3 w lp pt 5 t 'cloudfs warm', '' u 1:4 w lp pt 9 t 'raw curl', '' u 1:5 w lp pt 11 t 'openstack CLI', '' u 1:6 w lp pt 13 dt 2 t 'floorfs warm (FUSE, no cloud)'
unset multiplot
